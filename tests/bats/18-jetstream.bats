#!/usr/bin/env bats
# The JetStream API on the wire: raw requests through nc, replies checked with jq. With
# WIRE_SERVER=nats-server the same expectations run against the Debian nats-server -js.

load helpers

setup() {
    STORE=$BATS_TEST_TMPDIR/store
}

teardown() {
    stop_server
}

js_serve() {
    start_server -js -sd "$STORE" "$@"
}

# raw BYTES: sends printf-style BYTES after a quiet CONNECT and a subscription to _r (sid 1), waits
# for the replies, and prints what came back with CRs removed.
raw() {
    { printf 'CONNECT {"verbose":false,"headers":true,"no_responders":true}\r\nSUB _r 1\r\n'
      printf "$1"
      printf 'PING\r\n'
      sleep "${RAW_WAIT:-0.3}"; } | timeout 5 nc -N 127.0.0.1 "$PORT" | tr -d '\r'
}

# api SUBJECT [BODY]: the payload of the reply to a request.
api() {
    local body=${2-}
    LC_ALL=C raw "PUB $1 _r ${#body}\r\n$body\r\n" | awk '/^MSG _r /{getline; print; exit}'
}

# hpub SUBJECT HEADERS BODY: publishes with headers ("K: v\r\n..."), prints the PubAck payload.
hpub() {
    local hdr="NATS/1.0\r\n$2\r\n\r\n" body=$3
    local hlen
    hlen=$(printf "$hdr" | wc -c)
    LC_ALL=C raw "HPUB $1 _r $hlen $((hlen + ${#body}))\r\n$hdr$body\r\n" |
        awk '/^MSG _r /{getline; print; exit}'
}

create() {
    api "\$JS.API.STREAM.CREATE.$1" "$2" >/dev/null
}

@test "-js announces jetstream in INFO and answers \$JS.API.INFO; without it nobody answers" {
    js_serve
    [ "$(info_json | jq .jetstream)" = true ]
    run api '$JS.API.INFO'
    [ "$(jq -r .type <<<"$output")" = io.nats.jetstream.api.v1.account_info_response ]
    [ "$(jq .streams <<<"$output")" = 0 ]
    [ "$(jq .limits.max_memory <<<"$output")" = -1 ]
    stop_server
    start_server
    [ "$(info_json | jq .jetstream)" = null ]
    run raw 'PUB $JS.API.INFO _r 0\r\n\r\n'
    [[ $output == *$'HMSG _r 1 16 16\nNATS/1.0 503'* ]]
}

@test "a file stream and its messages survive kill -9 with sequences, times and config" {
    js_serve
    create ORDERS '{"name":"ORDERS","subjects":["orders.>"],"max_msgs_per_subject":5}'
    local created
    created=$(api '$JS.API.STREAM.INFO.ORDERS' | jq -r .created)
    [ "$(hpub orders.new 'Nats-Msg-Id: a' one)" = '{"stream":"ORDERS","seq":1}' ]
    [ "$(hpub orders.new 'Nats-Msg-Id: b' two)" = '{"stream":"ORDERS","seq":2}' ]
    kill -9 "$SERVER_PID"
    wait "$SERVER_PID" || true
    SERVER_PID=
    js_serve
    run api '$JS.API.STREAM.INFO.ORDERS'
    [ "$(jq .state.messages <<<"$output")" = 2 ]
    [ "$(jq .state.last_seq <<<"$output")" = 2 ]
    [ "$(jq -r .created <<<"$output")" = "$created" ]
    [ "$(jq .config.max_msgs_per_subject <<<"$output")" = 5 ]
    run api '$JS.API.STREAM.MSG.GET.ORDERS' '{"seq":2}'
    [ "$(jq -r .message.data <<<"$output" | base64 -d)" = two ]
    # The duplicate window is rebuilt from the stored Nats-Msg-Id headers.
    [ "$(hpub orders.new 'Nats-Msg-Id: a' again)" = '{"stream":"ORDERS","seq":1,"duplicate":true}' ]
    [ "$(hpub orders.new 'Nats-Msg-Id: c' three)" = '{"stream":"ORDERS","seq":3}' ]
}

@test "a memory stream is gone after a restart, as in nats-server" {
    js_serve
    create MEM '{"name":"MEM","subjects":["mem"],"storage":"memory"}'
    [ "$(api '$JS.API.STREAM.NAMES' | jq -c .streams)" = '["MEM"]' ]
    stop_server
    js_serve
    [ "$(api '$JS.API.STREAM.NAMES' | jq -c .streams)" = null ]
}

@test "direct get returns the stored headers plus the Nats-Stream, -Subject, -Sequence, -Time-Stamp" {
    js_serve
    create KV_b '{"name":"KV_b","subjects":["$KV.b.>"],"allow_direct":true,"max_msgs_per_subject":1}'
    hpub '$KV.b.k' 'X-A: 1' v1 >/dev/null
    hpub '$KV.b.k' 'X-A: 2' v2 >/dev/null
    run raw 'PUB $JS.API.DIRECT.GET.KV_b.$KV.b.k _r 0\r\n\r\n'
    [[ $output == *$'NATS/1.0\nX-A: 2\nNats-Stream: KV_b\nNats-Subject: $KV.b.k\nNats-Sequence: 2\nNats-Time-Stamp: '* ]]
    [[ $output == *$'\n\nv2\n'* ]]
    run raw 'PUB $JS.API.DIRECT.GET.KV_b.$KV.b.none _r 0\r\n\r\n'
    [[ $output == *'NATS/1.0 404 Message Not Found'* ]]
    run raw 'PUB $JS.API.DIRECT.GET.KV_b _r 5\r\nnope!\r\n'
    [[ $output == *'NATS/1.0 408 Malformed Request'* ]]
    run raw 'PUB $JS.API.DIRECT.GET.KV_b _r 0\r\n\r\n'
    [[ $output == *'NATS/1.0 408 Empty Request'* ]]
    # history 1: the first revision was evicted by max_msgs_per_subject
    run api '$JS.API.STREAM.MSG.GET.KV_b' '{"seq":1}'
    [ "$(jq .error.err_code <<<"$output")" = 10037 ]
}

@test "malformed and unknown requests get errors, never silence" {
    js_serve
    run api '$JS.API.STREAM.CREATE.X' '{"name":'
    [ "$(jq .error.err_code <<<"$output")" = 10025 ]
    run api '$JS.API.STREAM.CREATE.X' '{"name":"Y"}'
    [ "$(jq .error.err_code <<<"$output")" = 10056 ]
    run api '$JS.API.STREAM.INFO.NOPE'
    [ "$(jq -c .error <<<"$output")" = '{"code":404,"err_code":10059,"description":"stream not found"}' ]
    run api '$JS.API.STREAM.FROB.X'
    [ "$(jq -r .type <<<"$output")" = io.nats.jetstream.api.v1.system_response ]
    [ "$(jq .error.err_code <<<"$output")" = 10003 ]
    create A '{"name":"A","subjects":["a.*"]}'
    run api '$JS.API.STREAM.CREATE.B' '{"name":"B","subjects":["a.>"]}'
    [ "$(jq .error.err_code <<<"$output")" = 10065 ]
    run api '$JS.API.STREAM.PURGE.A' '{"seq":2,"keep":1}'
    [ "$(jq .error.err_code <<<"$output")" = 10003 ]
}

@test "max_age removes aged messages without a publish to trigger it" {
    js_serve
    create AGE '{"name":"AGE","subjects":["age"],"max_age":1500000000}'
    hpub age 'X: 1' a >/dev/null
    [ "$(api '$JS.API.STREAM.INFO.AGE' | jq .state.messages)" = 1 ]
    sleep 1.6
    run api '$JS.API.STREAM.INFO.AGE'
    [ "$(jq .state.messages <<<"$output")" = 0 ]
    [ "$(jq .state.first_seq <<<"$output")" = 2 ]
}

@test "interest retention without consumers uses the sequence but keeps nothing" {
    js_serve
    create INT '{"name":"INT","subjects":["int"],"retention":"interest"}'
    [ "$(hpub int 'X: 1' a)" = '{"stream":"INT","seq":1}' ]
    [ "$(hpub int 'X: 1' b)" = '{"stream":"INT","seq":2}' ]
    run api '$JS.API.STREAM.INFO.INT'
    [ "$(jq .state.messages <<<"$output")" = 0 ]
    [ "$(jq .state.last_seq <<<"$output")" = 2 ]
}

@test "sync_interval always still acknowledges every publish" {
    printf 'jetstream { store_dir: "%s", sync_interval: always }\n' "$STORE" >"$BATS_TEST_TMPDIR/js.conf"
    start_server -c "$BATS_TEST_TMPDIR/js.conf"
    create S '{"name":"S","subjects":["s"]}'
    [ "$(hpub s 'X: 1' a)" = '{"stream":"S","seq":1}' ]
    [ "$(hpub s 'X: 1' b)" = '{"stream":"S","seq":2}' ]
    grep -q 'Sync Interval:   always' "$SERVER_LOG"
}

@test "a store directory that cannot be created stops the start with one clear line" {
    touch "$BATS_TEST_TMPDIR/file"
    run --separate-stderr "$NATSCTL" server -js -sd "$BATS_TEST_TMPDIR/file/x" -p -1
    [ "$status" -ne 0 ]
    [[ $stderr == *"cannot create the JetStream store $BATS_TEST_TMPDIR/file/x/jetstream/\$G/streams: Not a directory"* ]]
}

@test "a copy of a stopped server's store_dir restores every stream and durable consumer" {
    js_serve
    create ORDERS '{"name":"ORDERS","subjects":["orders.>"]}'
    create KV_b '{"name":"KV_b","subjects":["$KV.b.>"],"max_msgs_per_subject":1}'
    hpub orders.a 'X: 1' one >/dev/null
    hpub orders.b 'X: 1' two >/dev/null
    hpub '$KV.b.k' 'X: 1' v >/dev/null
    api '$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.D' \
        '{"stream_name":"ORDERS","config":{"durable_name":"D","ack_policy":"explicit"}}' >/dev/null
    # one message fetched and acknowledged, the other left pending
    run raw 'SUB _in 2\r\nPUB $JS.API.CONSUMER.MSG.NEXT.ORDERS.D _in 1\r\n1\r\n'
    local ack
    ack=$(awk '/^HMSG orders.a 2 /{print $4; exit}' <<<"$output")
    [ -n "$ack" ]
    raw "PUB $ack _r 4\r\n+ACK\r\n" >/dev/null
    stop_server
    cp -a "$STORE" "$BATS_TEST_TMPDIR/copy"
    STORE=$BATS_TEST_TMPDIR/copy
    js_serve
    [ "$(api '$JS.API.STREAM.NAMES' | jq -c .streams)" = '["KV_b","ORDERS"]' ]
    [ "$(api '$JS.API.STREAM.INFO.ORDERS' | jq .state.messages)" = 2 ]
    run api '$JS.API.CONSUMER.INFO.ORDERS.D'
    [ "$(jq .ack_floor.stream_seq <<<"$output")" = 1 ]
    [ "$(jq .num_pending <<<"$output")" = 1 ]
}

@test "a pull request's max_bytes ends it with 409 before a message that would exceed it, which waits" {
    js_serve
    create BIG '{"name":"BIG","subjects":["big"]}'
    hpub big 'X: 1' 0123456789012345678901234567890123456789 >/dev/null
    api '$JS.API.CONSUMER.DURABLE.CREATE.BIG.D' \
        '{"stream_name":"BIG","config":{"durable_name":"D","ack_policy":"explicit"}}' >/dev/null
    run raw 'SUB _in 2\r\nPUB $JS.API.CONSUMER.MSG.NEXT.BIG.D _in 26\r\n{"batch":5,"max_bytes":20}\r\n'
    [[ $output == *$'HMSG _in 2 '*$'\nNATS/1.0 409 Message Size Exceeds MaxBytes\nNats-Pending-Messages: 5\nNats-Pending-Bytes: 20\n'* ]]
    run raw 'SUB _in 2\r\nPUB $JS.API.CONSUMER.MSG.NEXT.BIG.D _in 1\r\n1\r\n'
    [[ $output == *'HMSG big 2 $JS.ACK.BIG.D.1.1.1.'* ]]
}

@test "a durable consumer's deliveries and acks since its last snapshot survive kill -9 (state.log)" {
    js_serve
    create LOG '{"name":"LOG","subjects":["log"]}'
    for i in 1 2 3 4 5 6; do hpub log 'X: 1' "m$i" >/dev/null; done
    api '$JS.API.CONSUMER.DURABLE.CREATE.LOG.D' \
        '{"stream_name":"LOG","config":{"durable_name":"D","ack_policy":"explicit","ack_wait":30000000000}}' >/dev/null
    sleep 0.3 # the first save after creation is the snapshot; what follows goes to the log
    run raw 'SUB _in 2\r\nPUB $JS.API.CONSUMER.MSG.NEXT.LOG.D _in 11\r\n{"batch":6}\r\n'
    local acks
    mapfile -t acks < <(awk '/^HMSG log 2 /{print $4}' <<<"$output")
    [ "${#acks[@]}" = 6 ]
    raw "PUB ${acks[0]} 0\r\n\r\nPUB ${acks[1]} 0\r\n\r\nPUB ${acks[2]} 0\r\n\r\n" >/dev/null
    sleep 0.3 # a tick appends the deliveries, the acks and the cursor
    kill -9 "$SERVER_PID"
    wait "$SERVER_PID" || true
    SERVER_PID=
    js_serve
    run api '$JS.API.CONSUMER.INFO.LOG.D'
    [ "$(jq .ack_floor.stream_seq <<<"$output")" = 3 ]
    [ "$(jq .num_ack_pending <<<"$output")" = 3 ]
    [ "$(jq .delivered.stream_seq <<<"$output")" = 6 ]
    [ "$(jq .num_pending <<<"$output")" = 0 ]
    # A confirmed ack is written before its confirmation: kill -9 right after it keeps it.
    run raw "PUB ${acks[3]} _r 0\r\n\r\n"
    [[ $output == *'MSG _r 1 0'* ]]
    kill -9 "$SERVER_PID"
    wait "$SERVER_PID" || true
    SERVER_PID=
    js_serve
    run api '$JS.API.CONSUMER.INFO.LOG.D'
    [ "$(jq .ack_floor.stream_seq <<<"$output")" = 4 ]
    [ "$(jq .num_ack_pending <<<"$output")" = 2 ]
}
