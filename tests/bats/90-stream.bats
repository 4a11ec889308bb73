#!/usr/bin/env bats
# natsctl stream against a JetStream server: every subcommand, its --json read back with jq, and
# the exit codes for a missing stream, a refused request, bad flags, a confirmation without -f and
# a server without JetStream. JS_SERVER=nats-server runs it against the Debian nats-server.

load helpers

setup() {
    client_setup
    start_js_server
}

teardown() {
    client_teardown
}

st() {
    run --separate-stderr "$NATSCTL" stream "$@" -s "$URL"
}

add_orders() {
    "$NATSCTL" stream add ORDERS -s "$URL" --subjects 'orders.>' --defaults --json >/dev/null
}

pub() {
    "$NATSCTL" pub -s "$URL" "$@"
}

@test "stream add with flags creates the stream and prints its information" {
    st add ORDERS --subjects 'orders.>,shipped.*' --storage memory --max-msgs 100 \
        --max-age 1h --max-bytes 1MiB --discard new --allow-rollup --description 'the orders' --defaults
    [ "$status" -eq 0 ]
    [[ $output == *"Information for stream ORDERS"* ]]
    [[ $output == *"Subjects: orders.>, shipped.*"* ]]
    [[ $output == *"Storage: memory"* ]]
    [[ $output == *"Maximum Messages: 100"* ]]
    [[ $output == *"Maximum Age: 1h0m0s"* ]]
    [[ $output == *"Discard Policy: new"* ]]
    [[ $output == *"Allows Rollups: true"* ]]
    st info ORDERS --json
    jq -e '.config.max_bytes == 1048576 and .config.max_age == 3600000000000
        and .config.description == "the orders" and .config.storage == "memory"' <<<"$output"
}

@test "stream add --json prints the create response" {
    st add ORDERS --subjects 'orders.>' --retention work --dupe-window 30s --defaults --json
    [ "$status" -eq 0 ]
    jq -e '.type == "io.nats.jetstream.api.v1.stream_create_response"
        and .config.retention == "workqueue" and .config.duplicate_window == 30000000000' <<<"$output"
}

@test "stream add without a terminal names the missing flags and exits 2" {
    st add ORDERS --subjects 'orders.>' </dev/null
    [ "$status" -eq 2 ]
    one_line "$stderr"
    [[ $stderr == *"--storage"*"--defaults"* ]]
    st ls
    [ -z "$output" ]
}

@test "stream add asks for what is missing on a terminal" {
    run bash -c "printf 'orders.>\nmemory\n\n\n\n5\n\n\n\n\n\n' |
        script -qefc '$NATSCTL stream add ORDERS -s $URL' /dev/null"
    [ "$status" -eq 0 ]
    [[ $output == *"(--subjects) [ORDERS]"* ]]
    run --separate-stderr "$NATSCTL" stream info ORDERS -s "$URL" --json
    jq -e '.config.subjects == ["orders.>"] and .config.storage == "memory"
        and .config.max_msgs == 5' <<<"$output"
}

@test "stream add --config reads a JSON configuration, and flags override it" {
    echo '{"name":"IGNORED","subjects":["a.>"],"max_msgs":7,"storage":"memory"}' >"$BATS_TEST_TMPDIR/c.json"
    st add CFG --config "$BATS_TEST_TMPDIR/c.json" --max-msgs 9 --json
    [ "$status" -eq 0 ]
    jq -e '.config.name == "CFG" and .config.subjects == ["a.>"] and .config.max_msgs == 9' <<<"$output"
}

@test "stream add refuses bad values and names with exit 2, before connecting" {
    st add ORDERS --storage disk --defaults
    [ "$status" -eq 2 ]
    [[ $stderr == *"disk"* ]]
    st add 'OR.DERS' --defaults
    [ "$status" -eq 2 ]
    [[ $stderr == *"invalid stream name"* ]]
    st add ORDERS --max-age soon --defaults
    [ "$status" -eq 2 ]
    st add ORDERS --subjects 'a..b' --defaults
    [ "$status" -eq 2 ]
}

@test "stream add of a clashing stream is refused with the server's reason and exit 6" {
    add_orders
    st add OTHER --subjects 'orders.new' --defaults
    [ "$status" -eq 6 ]
    one_line "$stderr"
    [[ $stderr == "natsctl stream add: subjects overlap with an existing stream (10065)" ]]
}

@test "stream ls prints the names, --json an array; -n and list are accepted" {
    add_orders
    "$NATSCTL" stream add LOGS -s "$URL" --subjects 'logs.>' --defaults >/dev/null
    st ls
    [ "$status" -eq 0 ]
    [ "$output" = $'LOGS\nORDERS' ]
    st ls --json
    jq -e '. == ["LOGS","ORDERS"]' <<<"$output"
    st list -n
    [ "$output" = $'LOGS\nORDERS' ]
}

@test "stream info shows the state: messages, bytes, sequences and times, subjects" {
    add_orders
    pub orders.new one
    pub orders.old two
    st info ORDERS
    [ "$status" -eq 0 ]
    [[ $output == *"Messages: 2"* ]]
    [[ $output =~ First\ Sequence:\ 1\ @\ 20[0-9-]+T ]]
    [[ $output =~ Last\ Sequence:\ 2\ @\ 20[0-9-]+T ]]
    [[ $output == *"Number of Subjects: 2"* ]]
    [[ $output == *"Active Consumers: 0"* ]]
    st info ORDERS --json
    jq -e '.state.messages == 2 and .state.last_seq == 2 and .state.bytes > 0' <<<"$output"
}

@test "stream info of a missing stream says so and exits 6" {
    st info NOPE
    [ "$status" -eq 6 ]
    [ "$stderr" = "natsctl stream info: stream not found (10059)" ]
    [ -z "$output" ]
}

@test "stream edit changes the given settings and keeps the others" {
    add_orders
    st edit ORDERS --max-msgs 50 --description edited -f --json
    [ "$status" -eq 0 ]
    jq -e '.config.max_msgs == 50 and .config.description == "edited"
        and .config.subjects == ["orders.>"]' <<<"$output"
    st update ORDERS --subjects 'orders.>,more.>' -f
    [ "$status" -eq 0 ]
    [[ $output == *"Subjects: orders.>, more.>"* ]]
    [[ $output == *"Maximum Messages: 50"* ]]
}

@test "stream edit without -f and without a terminal exits 2 and changes nothing" {
    add_orders
    st edit ORDERS --max-msgs 50 </dev/null
    [ "$status" -eq 2 ]
    [[ $stderr == *"use -f"* ]]
    st info ORDERS --json
    jq -e '.config.max_msgs == -1' <<<"$output"
    st edit ORDERS -f
    [ "$status" -eq 2 ]
    [[ $stderr == *"nothing to change"* ]]
}

@test "stream edit that the server refuses exits 6 with its reason" {
    add_orders
    st edit ORDERS --storage memory -f
    [ "$status" -eq 6 ]
    [[ $stderr == *"can not change storage type"* ]]
    st edit NOPE --max-msgs 1 -f
    [ "$status" -eq 6 ]
    [[ $stderr == *"stream not found (10059)" ]]
}

@test "stream rm asks for -f without a terminal, then deletes" {
    add_orders
    st rm ORDERS </dev/null
    [ "$status" -eq 2 ]
    [[ $stderr == *"without confirmation: use -f"* ]]
    st ls
    [ "$output" = ORDERS ]
    st rm ORDERS -f
    [ "$status" -eq 0 ]
    [ "$output" = "Deleted stream ORDERS" ]
    st ls
    [ -z "$output" ]
    st rm ORDERS -f --json
    [ "$status" -eq 6 ]
}

@test "stream rm on a terminal deletes only after yes" {
    add_orders
    run bash -c "printf 'n\n' | script -qefc '$NATSCTL stream rm ORDERS -s $URL' /dev/null"
    [ "$status" -eq 0 ]
    [[ $output == *"Really delete stream 'ORDERS'? [y/N]"* ]]
    [ "$("$NATSCTL" stream ls -s "$URL")" = ORDERS ]
    run bash -c "printf 'y\n' | script -qefc '$NATSCTL stream rm ORDERS -s $URL' /dev/null"
    [ "$status" -eq 0 ]
    [ -z "$("$NATSCTL" stream ls -s "$URL")" ]
}

@test "stream purge removes all, by subject, or keeps the newest; --json gives the count" {
    add_orders
    for i in 1 2 3; do pub orders.a "a$i"; done
    for i in 1 2; do pub orders.b "b$i"; done
    st purge ORDERS --subject orders.a --keep 1 -f --json
    [ "$status" -eq 0 ]
    jq -e '.success and .purged == 2' <<<"$output"
    st purge ORDERS -f
    [ "$status" -eq 0 ]
    [ "$output" = "Purged 3 messages from stream ORDERS" ]
    st info ORDERS --json
    jq -e '.state.messages == 0 and .state.first_seq == 6' <<<"$output"
}

@test "stream purge --seq purges below the sequence; with --keep it is a usage error" {
    add_orders
    for i in 1 2 3 4; do pub orders.a "a$i"; done
    st purge ORDERS --seq 3 -f --json
    jq -e '.purged == 2' <<<"$output"
    st purge ORDERS --seq 3 --keep 1 -f
    [ "$status" -eq 2 ]
    st purge ORDERS </dev/null
    [ "$status" -eq 2 ]
    [[ $stderr == *"use -f"* ]]
}

@test "stream get prints one message by sequence or the last on a subject" {
    add_orders
    pub orders.a first
    pub -H 'Trace: t1' orders.b second
    pub orders.a third
    st get ORDERS 2
    [ "$status" -eq 0 ]
    [[ ${lines[0]} =~ ^\[2\]\ Subject:\ orders\.b\ @\ 20[0-9-]+T ]]
    [[ $output == *"Trace: t1"* ]]
    [[ $output == *second* ]]
    st get ORDERS --last-for orders.a --raw
    [ "$output" = third ]
    st get ORDERS 2 --json
    jq -e '.message.seq == 2 and .message.subject == "orders.b"
        and (.message.data | @base64d) == "second"' <<<"$output"
}

@test "stream get of a missing message exits 6, of no sequence 2" {
    add_orders
    st get ORDERS 9
    [ "$status" -eq 6 ]
    [[ $stderr == *"no message found (10037)" ]]
    st get ORDERS
    [ "$status" -eq 2 ]
    st get ORDERS x
    [ "$status" -eq 2 ]
}

@test "stream view prints every message when not on a terminal, with --subject and --seq" {
    add_orders
    for i in 1 2 3 4 5; do pub "orders.$((i % 2))" "m$i"; done
    st view ORDERS --raw --page 2
    [ "$status" -eq 0 ]
    [ "$output" = $'m1\nm2\nm3\nm4\nm5' ]
    st view ORDERS --raw --subject orders.0
    [ "$output" = $'m2\nm4' ]
    st view ORDERS --raw --seq 4
    [ "$output" = $'m4\nm5' ]
    st view ORDERS --json
    [ "${#lines[@]}" -eq 5 ]
    jq -se 'map(.message.seq) == [1,2,3,4,5]' <<<"$output"
}

@test "stream view pages on a terminal and stops when told" {
    add_orders
    for i in 1 2 3; do pub orders.a "m$i"; done
    run bash -c "printf 'n\n' | script -qefc '$NATSCTL stream view ORDERS --page 2 -s $URL' /dev/null"
    [ "$status" -eq 0 ]
    [[ $output == *m1*m2*"Next page? [Y/n]"* ]]
    [[ $output != *m3* ]]
}

@test "stream view of an empty stream says so on stderr and exits 0" {
    add_orders
    st view ORDERS
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ "$stderr" = "no messages in stream ORDERS" ]
}

@test "stream report lists every stream with storage, messages, consumers and subjects" {
    add_orders
    "$NATSCTL" stream add LOGS -s "$URL" --subjects 'logs.>' --storage memory --defaults >/dev/null
    pub orders.a x
    st report
    [ "$status" -eq 0 ]
    [[ ${lines[0]} == Stream*Storage*Messages*Bytes*Consumers*Deleted*Subjects ]]
    [[ $output =~ LOGS\ +memory\ +0\  ]]
    [[ $output =~ ORDERS\ +file\ +1\  ]]
    st report --json
    jq -e 'length == 2 and (map(.config.name) | sort) == ["LOGS","ORDERS"]' <<<"$output"
}

@test "stream alone or with an unknown subcommand is a usage error" {
    st
    [ "$status" -eq 2 ]
    st frobnicate
    [ "$status" -eq 2 ]
    [[ $stderr == *"'frobnicate' is not a stream subcommand"* ]]
    run "$NATSCTL" stream --help
    [ "$status" -eq 0 ]
    [[ $output == *"purge NAME"* ]]
}

@test "stream commands on a server without JetStream exit 5" {
    stop_server
    client_serve
    st ls
    [ "$status" -eq 5 ]
    [[ $stderr == *"JetStream is not enabled"* ]]
}

@test "stream commands exit 3 when no server is there" {
    run --separate-stderr "$NATSCTL" stream ls -s nats://127.0.0.1:1
    [ "$status" -eq 3 ]
}
