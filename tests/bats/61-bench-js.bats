#!/usr/bin/env bats
# natsctl bench pub --js: PubAcks counted exactly (acked, refused, never answered), synchronous and
# windowed publishing, file and memory streams, the stream created and deleted by the bench or
# kept when it existed, and the refusals. The server is natsctl server -js, or nats-server -js with
# JS_SERVER=nats-server (WIRE_SERVER is honoured too); while natsctl's server has no -js the tests
# that need it skip.

load helpers

setup() {
    WIRE_SERVER=${JS_SERVER:-$WIRE_SERVER}
}

teardown() {
    stop_server
}

# js_serve: a JetStream server with a store in the test's directory; sets URL.
js_serve() {
    local err=$BATS_TEST_TMPDIR/start.err
    if ! start_server -js -sd "$BATS_TEST_TMPDIR/store" 2>"$err"; then
        wait "$SERVER_PID" 2>/dev/null || true # it has exited: nothing for teardown to stop
        SERVER_PID=
        grep -q 'JetStream is not available' "$err" && skip "this natsctl server has no JetStream yet"
        cat "$err" >&2
        return 1
    fi
    URL=nats://127.0.0.1:$PORT
}

# api SUBJECT [BODY]: one $JS.API request; prints the JSON answer.
api() {
    "$NATSCTL" -s "$URL" request "\$JS.API.$1" "${2:-}" 2>/dev/null
}

@test "pub --js with a window counts every PubAck and deletes the stream it created" {
    js_serve
    run --separate-stderr "$NATSCTL" bench pub --js -s "$URL" --msgs 3000 --size 16 --json js.win
    [ "$status" -eq 0 ]
    [ "$(jq -r '.acked' <<<"$output")" = 3000 ]
    [ "$(jq -r '[.refused, .lost, .errors] | add' <<<"$output")" = 0 ]
    [ "$(jq -r '.aggregate.pub.msgs' <<<"$output")" = 3000 ]
    [ "$(jq -r '.aggregate.pub.bytes' <<<"$output")" = 48000 ]
    [ "$(jq -c '.params | [.stream, .storage, .window]' <<<"$output")" = '["benchstream","file",256]' ]
    [ "$(jq -r '.latency_us.samples' <<<"$output")" = 3000 ]
    jq -e '.latency_us.p50 > 0 and .latency_us.p50 <= .latency_us.p99 and .latency_us.p99 <= .latency_us.max' <<<"$output"
    [ "$(api STREAM.NAMES | jq -r '.total')" = 0 ]
}

@test "pub --js --sync on a memory stream splits --msgs over the publishers" {
    js_serve
    run --separate-stderr "$NATSCTL" bench pub --js --sync --storage memory -s "$URL" --clients 2 \
        --msgs 1001 --size 1KiB --json js.sync
    [ "$status" -eq 0 ]
    [ "$(jq -c '[.clients[].msgs]' <<<"$output")" = "[501,500]" ]
    [ "$(jq -r '.acked' <<<"$output")" = 1001 ]
    [ "$(jq -r '.aggregate.pub.bytes' <<<"$output")" = 1025024 ]
    [ "$(jq -c '.params | [.storage, .window]' <<<"$output")" = '["memory",1]' ]
    [ "$(jq -r '.latency_us.samples' <<<"$output")" = 1001 ]
}

@test "the human report of pub --js states the PubAck counts" {
    js_serve
    run --separate-stderr "$NATSCTL" bench pub --js -s "$URL" --msgs 500 --window 16 js.text
    [ "$status" -eq 0 ]
    [[ ${lines[0]} == "bench pub msgs=500 "*"storage=file stream=benchstream subject=js.text window=16 "* ]]
    [[ $output == *"Latency (500 samples): p50 "* ]]
    [[ $output == *"PubAcks: 500 acked, 0 refused"* ]]
    [[ $output != *WARNING* ]]
}

@test "an existing stream is used as it is, kept afterwards, and --purge empties it first" {
    js_serve
    api STREAM.CREATE.KEEP '{"name":"KEEP","subjects":["keep.x"],"storage":"memory"}' | jq -e '.config.name == "KEEP"'
    run --separate-stderr "$NATSCTL" bench pub --js -s "$URL" --stream KEEP --msgs 500 --json keep.x
    [ "$status" -eq 0 ]
    [ "$(jq -r '.acked' <<<"$output")" = 500 ]
    [ "$(api STREAM.INFO.KEEP | jq -c '[.state.messages, .state.last_seq, .config.storage]')" = '[500,500,"memory"]' ]
    run --separate-stderr "$NATSCTL" bench pub --js -s "$URL" --stream KEEP --purge --msgs 200 --json keep.x
    [ "$status" -eq 0 ]
    [ "$(api STREAM.INFO.KEEP | jq -c '[.state.messages, .state.first_seq, .state.last_seq]')" = '[200,501,700]' ]
}

@test "error PubAcks are counted as refused and make the run fail" {
    js_serve
    api STREAM.CREATE.FULL '{"name":"FULL","subjects":["full.x"],"max_msgs":100,"discard":"new"}' | jq -e '.config.max_msgs == 100'
    run --separate-stderr "$NATSCTL" bench pub --js --sync -s "$URL" --stream FULL --msgs 300 --json full.x
    [ "$status" -eq 1 ]
    [ "$(jq -c '[.acked, .refused, .lost]' <<<"$output")" = '[100,200,0]' ]
    [ "$(jq -r '.aggregate.pub.msgs' <<<"$output")" = 100 ]
    [[ $stderr == *"WARNING: results are unreliable"* ]]
}

@test "a subject no stream captures ends the run with an error" {
    js_serve
    api STREAM.CREATE.OTHER '{"name":"OTHER","subjects":["other.x"]}' | jq -e '.config.name == "OTHER"'
    run --separate-stderr "$NATSCTL" bench pub --js -s "$URL" --stream OTHER --msgs 10 --json not.captured
    [ "$status" -eq 1 ]
    [[ $stderr == *"no stream captures the subject"* ]]
}

@test "pub --js against a server without JetStream says so" {
    start_server
    run --separate-stderr "$NATSCTL" bench pub --js -s "nats://127.0.0.1:$PORT" --msgs 10 js.none
    [ "$status" -eq 1 ]
    [[ $stderr == *"stream benchstream: the server has no JetStream"* ]]
}

@test "pub --js usage errors" {
    run --separate-stderr "$NATSCTL" bench pubsub --js
    [ "$status" -eq 2 ]
    [[ $stderr == *"--js works with pub only"* ]]
    run --separate-stderr "$NATSCTL" bench pub --js --embedded
    [ "$status" -eq 2 ]
    run --separate-stderr "$NATSCTL" bench pub --js --stream a.b
    [ "$status" -eq 2 ]
    run --separate-stderr "$NATSCTL" bench pub --js --storage disk
    [ "$status" -eq 2 ]
    run --separate-stderr "$NATSCTL" bench pub --js --window 0
    [ "$status" -eq 2 ]
}
