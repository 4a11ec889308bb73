#!/usr/bin/env bats
# natsctl sub --stream: every --from form with the exact sequences it starts at, the sequence and
# stored time of each message, --durable resuming after the command ran again, and --ack against
# --no-ack as the consumer's ack floor shows them.

load helpers

setup() {
    client_setup
    start_js_server
    "$NATSCTL" stream add ORD --subjects 'ord.>' --defaults -s "$URL" >/dev/null
    local i
    for i in 1 2 3 4 5; do
        "$NATSCTL" pub ord.a "a$i" -J -s "$URL" >/dev/null
        "$NATSCTL" pub ord.b "b$i" -J -s "$URL" >/dev/null
    done
}

teardown() {
    client_teardown
}

# seqs ARGS...: the stream sequences sub --stream ORD prints, space separated; quiet after 1 s.
seqs() {
    "$NATSCTL" sub --stream ORD -s "$URL" --json --wait 1s "$@" 2>/dev/null | jq -r .seq | tr '\n' ' '
}

@test "--from all, new and last" {
    [ "$(seqs)" = "1 2 3 4 5 6 7 8 9 10 " ]
    [ "$(seqs --from all)" = "1 2 3 4 5 6 7 8 9 10 " ]
    [ "$(seqs --from new)" = "" ]
    [ "$(seqs --from last)" = "10 " ]
    [ "$(seqs ord.a --from last)" = "9 " ]
}

@test "--from last-per-subject, with and without a filter" {
    [ "$(seqs --from last-per-subject)" = "9 10 " ]
    [ "$(seqs 'ord.*' --from last-per-subject)" = "9 10 " ]
}

@test "--from SEQ starts at that sequence" {
    [ "$(seqs --from 7)" = "7 8 9 10 " ]
    [ "$(seqs ord.b --from 5)" = "6 8 10 " ]
}

@test "--from -N gives the last N messages, of the filter too" {
    [ "$(seqs --from -3)" = "8 9 10 " ]
    [ "$(seqs --from=-20)" = "1 2 3 4 5 6 7 8 9 10 " ]
    [ "$(seqs ord.a --from -2)" = "7 9 " ]
}

@test "--from DURATION and an RFC 3339 time start by stored time" {
    [ "$(seqs --from 1h)" = "1 2 3 4 5 6 7 8 9 10 " ]
    local t
    t=$("$NATSCTL" stream get ORD 6 --json -s "$URL" | jq -r .message.time)
    [ "$(seqs --from "$t")" = "6 7 8 9 10 " ]
    sleep 1.1
    "$NATSCTL" pub ord.c c1 -J -s "$URL" >/dev/null
    [ "$(seqs --from 1s)" = "11 " ]
}

@test "each message shows its sequence and stored time" {
    run --separate-stderr "$NATSCTL" sub --stream ORD ord.b --from 4 --count 1 --json -s "$URL"
    [ "$status" -eq 0 ]
    jq -e '.subject == "ord.b" and .seq == 4 and .data == "b2" and (.ts | startswith("20"))' <<<"$output"
    local t
    t=$("$NATSCTL" stream get ORD 4 --json -s "$URL" | jq -r .message.time)
    [ "$(jq -r .ts <<<"$output" | cut -c1-19)" = "${t:0:19}" ]
    run --separate-stderr "$NATSCTL" sub --stream ORD --from 2 --count 1 --pretty -s "$URL"
    [[ ${lines[0]} == '[#1] Received on "ord.b" seq 2 @ 20'* ]]
    [ "${lines[1]}" = b1 ]
}

@test "--durable resumes where the previous run stopped, and acks by default" {
    run --separate-stderr "$NATSCTL" sub --stream ORD --durable d1 --count 3 --raw -s "$URL"
    [ "$status" -eq 0 ]
    [ "$output" = "$(printf 'a1\nb1\na2')" ]
    run --separate-stderr "$NATSCTL" sub --stream ORD --durable d1 --count 2 --raw --from last -s "$URL"
    [ "$output" = "$(printf 'b2\na3')" ]
    run --separate-stderr "$NATSCTL" consumer info ORD d1 --json -s "$URL"
    jq -e '.config.ack_policy == "explicit" and .ack_floor.stream_seq == 5' <<<"$output"
}

@test "--ack and --no-ack show in the consumer's ack floor" {
    "$NATSCTL" sub --stream ORD --durable acked --ack --count 4 -s "$URL" >/dev/null 2>&1
    "$NATSCTL" sub --stream ORD --durable unacked --no-ack --count 4 -s "$URL" >/dev/null 2>&1
    run --separate-stderr "$NATSCTL" consumer info ORD acked --json -s "$URL"
    jq -e '.ack_floor.stream_seq == 4 and .num_ack_pending == 0' <<<"$output"
    run --separate-stderr "$NATSCTL" consumer info ORD unacked --json -s "$URL"
    jq -e '.config.ack_policy == "none" and .delivered.stream_seq >= 4' <<<"$output"
}

@test "an ephemeral consumer is deleted at exit" {
    run --separate-stderr "$NATSCTL" sub --stream ORD --count 2 -s "$URL"
    [ "$status" -eq 0 ]
    run --separate-stderr "$NATSCTL" consumer ls ORD -s "$URL"
    [ "$output" = "" ]
}

@test "new messages arrive while sub --stream waits; Ctrl-C ends it with 0" {
    natsctl_bg live sub --stream ORD --from new --raw -s "$URL"
    local pid=$BG_PID
    wait_for_text "$BATS_TEST_TMPDIR/live.err" "Reading stream ORD"
    "$NATSCTL" pub ord.a later -J -s "$URL" >/dev/null
    wait_for_text "$BATS_TEST_TMPDIR/live.out" later
    kill -INT "$pid"
    wait_exit "$pid"
    [ "$EXIT" -eq 0 ]
}

@test "sub --stream usage errors and a missing stream" {
    run --separate-stderr "$NATSCTL" sub --stream ORD --from sometime -s "$URL"
    [ "$status" -eq 2 ]
    run --separate-stderr "$NATSCTL" sub --stream ORD ord.a ord.b -s "$URL"
    [ "$status" -eq 2 ]
    run --separate-stderr "$NATSCTL" sub ord.a --from all -s "$URL"
    [ "$status" -eq 2 ]
    run --separate-stderr "$NATSCTL" sub --stream NOPE --count 1 -s "$URL"
    [ "$status" -eq 6 ]
    [[ $stderr == *"stream not found"* ]]
}
