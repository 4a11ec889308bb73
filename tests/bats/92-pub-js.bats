#!/usr/bin/env bats
# natsctl pub --jetstream: the PubAck printed and as JSON, duplicates, a refused message (exit 6),
# a subject no stream captures (exit 5), and the options it cannot be combined with.

load helpers

setup() {
    client_setup
    start_js_server
    "$NATSCTL" stream add ORDERS -s "$URL" --subjects 'orders.>' --defaults --json >/dev/null
}

teardown() {
    client_teardown
}

jpub() {
    run --separate-stderr "$NATSCTL" pub -s "$URL" --jetstream "$@"
}

@test "pub --jetstream prints the stream and sequence that stored the message" {
    jpub orders.new hello
    [ "$status" -eq 0 ]
    [ "$output" = 'Published 5 bytes to "orders.new": stream ORDERS seq 1' ]
    [ -z "$stderr" ]
    run --separate-stderr "$NATSCTL" pub -s "$URL" -J orders.new again
    [ "$output" = 'Published 5 bytes to "orders.new": stream ORDERS seq 2' ]
    run --separate-stderr "$NATSCTL" stream get ORDERS 2 -s "$URL" --raw
    [ "$output" = again ]
}

@test "pub --jetstream --json prints each PubAck, --count one after another" {
    jpub orders.new 'n{{Count}}' --count 3 --json
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 3 ]
    jq -se 'map(.seq) == [1,2,3] and all(.stream == "ORDERS")' <<<"$output"
}

@test "pub --jetstream says when the stream saw the Nats-Msg-Id before" {
    jpub orders.new hello -H Nats-Msg-Id:order-1
    [ "$output" = 'Published 5 bytes to "orders.new": stream ORDERS seq 1' ]
    jpub orders.new hello -H Nats-Msg-Id:order-1
    [ "$status" -eq 0 ]
    [ "$output" = 'Published 5 bytes to "orders.new": stream ORDERS seq 1 (duplicate)' ]
    jpub orders.new hello -H Nats-Msg-Id:order-1 --json
    jq -e '.duplicate == true and .seq == 1' <<<"$output"
}

@test "pub --jetstream exits 6 with the stream's reason when an expected header does not hold" {
    jpub orders.new one
    jpub orders.new two -H Nats-Expected-Last-Sequence:5
    [ "$status" -eq 6 ]
    [ -z "$output" ]
    [ "$stderr" = "natsctl pub: wrong last sequence: 1 (10071)" ]
    jpub orders.new two -H Nats-Expected-Stream:OTHER
    [ "$status" -eq 6 ]
    [[ $stderr == *"expected stream does not match (10060)" ]]
    run --separate-stderr "$NATSCTL" stream info ORDERS -s "$URL" --json
    jq -e '.state.messages == 1' <<<"$output"
}

@test "pub --jetstream exits 6 when a limit refuses the message" {
    "$NATSCTL" stream add SMALL -s "$URL" --subjects 'small' --max-msg-size 4 --defaults >/dev/null
    jpub small 'too long'
    [ "$status" -eq 6 ]
    [[ $stderr == *"message size exceeds maximum allowed (10054)" ]]
}

@test "pub --jetstream on a subject no stream captures exits 5" {
    jpub nowhere.x hello
    [ "$status" -eq 5 ]
    [ "$stderr" = "natsctl pub: no stream captures subject 'nowhere.x'" ]
}

@test "pub --jetstream refuses --lines and --reply, and --json needs it" {
    jpub orders.new x --reply r
    [ "$status" -eq 2 ]
    run --separate-stderr "$NATSCTL" pub -s "$URL" --json orders.new x
    [ "$status" -eq 2 ]
    [[ $stderr == *"--json needs --jetstream"* ]]
}
