#!/usr/bin/env bats
# natsctl consumer add, ls, info, rm and next: natscli's flags, --json, the exit codes for a
# missing consumer, missing values and confirmations without a terminal.

load helpers

setup() {
    client_setup
    start_js_server
    "$NATSCTL" stream add ORD --subjects 'ord.>' --defaults -s "$URL" >/dev/null
    local i
    for i in 1 2 3 4 5; do
        "$NATSCTL" pub ord.a "a$i" -J -s "$URL" >/dev/null
    done
}

teardown() {
    client_teardown
}

consumer() {
    run --separate-stderr "$NATSCTL" consumer "$@" -s "$URL"
}

@test "consumer add creates a pull consumer from natscli's flags" {
    consumer add ORD c1 --pull --deliver 3 --ack explicit --wait 10s --max-deliver 5 \
        --max-pending 20 --filter ord.a --description audit --json
    [ "$status" -eq 0 ]
    jq -e '.name == "c1" and .config.durable_name == "c1" and .config.deliver_policy == "by_start_sequence"
        and .config.opt_start_seq == 3 and .config.ack_policy == "explicit"
        and .config.ack_wait == 10000000000 and .config.max_deliver == 5
        and .config.max_ack_pending == 20 and .config.filter_subject == "ord.a"
        and (.config.deliver_subject == null) and .num_pending == 3' <<<"$output"
}

@test "consumer add --target makes a push consumer with heartbeats and flow control" {
    consumer add ORD p1 --target push.p1 --heartbeat 2s --flow-control --deliver last --json
    [ "$status" -eq 0 ]
    jq -e '.config.deliver_subject == "push.p1" and .config.idle_heartbeat == 2000000000
        and .config.flow_control and .config.deliver_policy == "last"' <<<"$output"
}

@test "consumer add without a terminal needs a name and --pull, --target or --defaults" {
    consumer add ORD c1
    [ "$status" -eq 2 ]
    [[ $stderr == *--defaults* ]]
    consumer add ORD --pull
    [ "$status" -eq 2 ]
    consumer add ORD c1 --defaults
    [ "$status" -eq 0 ]
    [[ $output == *"Pull mode: true"* ]]
    consumer add ORD c2 --ack sometimes --pull
    [ "$status" -eq 2 ]
    consumer add ORD c2 --deliver -3 --pull
    [ "$status" -eq 2 ]
}

@test "consumer add --config reads a JSON configuration; flags override it" {
    echo '{"ack_policy":"none","deliver_policy":"new","description":"from file"}' >"$BATS_TEST_TMPDIR/c.json"
    consumer add ORD c1 --config "$BATS_TEST_TMPDIR/c.json" --deliver all --json
    [ "$status" -eq 0 ]
    jq -e '.config.ack_policy == "none" and .config.deliver_policy == "all"
        and .config.description == "from file"' <<<"$output"
}

@test "consumer ls lists the names; --json as an array" {
    "$NATSCTL" consumer add ORD b --pull -s "$URL" >/dev/null
    "$NATSCTL" consumer add ORD a --pull -s "$URL" >/dev/null
    consumer ls ORD
    [ "$status" -eq 0 ]
    [ "$(sort <<<"$output")" = "$(printf 'a\nb')" ]
    consumer ls ORD --json
    jq -e 'sort == ["a","b"]' <<<"$output"
    consumer ls NOPE
    [ "$status" -eq 6 ]
}

@test "consumer info shows the state; --json the API response; a missing one exits 6" {
    "$NATSCTL" consumer add ORD c1 --pull -s "$URL" >/dev/null
    consumer info ORD c1
    [ "$status" -eq 0 ]
    [[ $output == *"Information for consumer ORD > c1"* ]]
    [[ $output == *"Unprocessed: 5"* ]]
    consumer info ORD c1 --json
    jq -e '.name == "c1" and .num_pending == 5 and .ack_floor.stream_seq == 0' <<<"$output"
    consumer info ORD nope
    [ "$status" -eq 6 ]
    [[ $stderr == *"consumer not found (10014)"* ]]
}

@test "consumer next pulls, acks by default, and --no-ack leaves the ack floor" {
    "$NATSCTL" consumer add ORD c1 --pull -s "$URL" >/dev/null
    consumer next ORD c1 --count 2 --json
    [ "$status" -eq 0 ]
    [ "$(jq -r .seq <<<"$output" | tr '\n' ' ')" = "1 2 " ]
    [ "$(jq -r .data <<<"$output" | tr '\n' ' ')" = "a1 a2 " ]
    consumer info ORD c1 --json
    jq -e '.ack_floor.stream_seq == 2 and .num_ack_pending == 0' <<<"$output"
    consumer next ORD c1 --no-ack --raw
    [ "$output" = a3 ]
    consumer info ORD c1 --json
    jq -e '.ack_floor.stream_seq == 2 and .num_ack_pending == 1' <<<"$output"
}

@test "consumer next exits 4 when fewer messages than --count came; push consumers exit 2" {
    "$NATSCTL" consumer add ORD c1 --pull -s "$URL" >/dev/null
    consumer next ORD c1 --count 10 --raw --timeout 1s
    [ "$status" -eq 4 ]
    [ "$(wc -l <<<"$output")" -eq 5 ]
    [[ $stderr == *"timed out after 5 of 10 messages"* ]]
    "$NATSCTL" consumer add ORD p1 --target push.p1 -s "$URL" >/dev/null
    consumer next ORD p1
    [ "$status" -eq 2 ]
}

@test "consumer rm needs -f without a terminal; then the consumer is gone" {
    "$NATSCTL" consumer add ORD c1 --pull -s "$URL" >/dev/null
    consumer rm ORD c1
    [ "$status" -eq 2 ]
    [[ $stderr == *"use -f"* ]]
    consumer rm ORD c1 -f --json
    [ "$status" -eq 0 ]
    jq -e '.success' <<<"$output"
    consumer rm ORD c1 -f
    [ "$status" -eq 6 ]
}

@test "consumer usage errors and natscli's aliases" {
    consumer add 'bad.name' c1 --pull
    [ "$status" -eq 2 ]
    consumer info ORD
    [ "$status" -eq 2 ]
    consumer frob ORD
    [ "$status" -eq 2 ]
    consumer create ORD c1 --pull
    [ "$status" -eq 0 ]
    consumer list ORD
    [ "$output" = c1 ]
    consumer del ORD c1 -f
    [ "$status" -eq 0 ]
}
