#!/usr/bin/env bats
# natsctl bench pub --js: PubAcks counted exactly (acked, refused, never answered), synchronous and
# windowed publishing, file and memory streams, the stream created and deleted by the bench or
# kept when it existed, and the refusals. natsctl bench sub --js: pull and push consumers with
# explicit or no acks read exactly --msgs messages, and the consumer is gone afterwards. The server is natsctl server -js, or nats-server -js with
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
    [[ $stderr == *"--js works with pub and sub only"* ]]
    run --separate-stderr "$NATSCTL" bench pub --js --embedded
    [ "$status" -eq 2 ]
    run --separate-stderr "$NATSCTL" bench pub --js --stream a.b
    [ "$status" -eq 2 ]
    run --separate-stderr "$NATSCTL" bench pub --js --storage disk
    [ "$status" -eq 2 ]
    run --separate-stderr "$NATSCTL" bench pub --js --window 0
    [ "$status" -eq 2 ]
}

# fill STREAM N SIZE: a file stream on fill.<stream> holding N messages.
fill() {
    api "STREAM.CREATE.$1" "{\"name\":\"$1\",\"subjects\":[\"fill.$1\"]}" | jq -e ".config.name == \"$1\""
    "$NATSCTL" bench pub --js -s "$URL" --stream "$1" --msgs "$2" --size "$3" --json "fill.$1" | jq -e ".acked == $2"
}

# consumed MSGS ACKS: the run read MSGS messages and sent ACKS acks, lost none, and left no consumer.
consumed() {
    [ "$(jq -c '[.aggregate.sub.msgs, .acks, .lost, .errors, .duplicates]' <<<"$output")" = "[$1,$2,0,0,0]" ]
    [ "$(api CONSUMER.NAMES.S | jq -r '.total')" = 0 ]
}

@test "sub --js --pull with explicit acks reads exactly --msgs and acks each" {
    js_serve
    fill S 3000 16
    run --separate-stderr "$NATSCTL" bench sub --js -s "$URL" --stream S --pull --batch 64 --msgs 2500 --json
    [ "$status" -eq 0 ]
    consumed 2500 2500
    [ "$(jq -c '.params | [.stream, .consumer, .ack, .batch]' <<<"$output")" = '["S","pull","explicit",64]' ]
    [ "$(jq -r '.aggregate.sub.bytes' <<<"$output")" = 40000 ]
    [ "$(api STREAM.INFO.S | jq -r '.state.messages')" = 3000 ]
}

@test "sub --js --push with acks none reads 1 KiB messages without acking" {
    js_serve
    fill S 2000 1KiB
    run --separate-stderr "$NATSCTL" bench sub --js -s "$URL" --stream S --push --ack none --msgs 2000 --json
    [ "$status" -eq 0 ]
    consumed 2000 0
    [ "$(jq -c '.params | [.consumer, .ack, .batch]' <<<"$output")" = '["push","none",null]' ]
    [ "$(jq -r '.aggregate.sub.bytes' <<<"$output")" = 2048000 ]
}

@test "sub --js --push with explicit acks stops at --msgs of a longer stream" {
    js_serve
    fill S 3000 16
    run --separate-stderr "$NATSCTL" bench sub --js -s "$URL" --stream S --push --msgs 1500 --json
    [ "$status" -eq 0 ]
    consumed 1500 1500
    [ "$(jq -r '.params.consumer' <<<"$output")" = push ]
}

@test "the human report of sub --js states the acks" {
    js_serve
    fill S 500 16
    run --separate-stderr "$NATSCTL" bench sub --js -s "$URL" --stream S --msgs 500
    [ "$status" -eq 0 ]
    [[ ${lines[0]} == "bench sub ack=explicit batch=100 consumer=pull msgs=500 "*"stream=S "* ]]
    [[ $output == *"Acks: 500 sent"* ]]
    [[ $output != *WARNING* ]]
}

@test "sub --js asking for more than the stream holds ends with the loss counted" {
    js_serve
    fill S 100 16
    run --separate-stderr "$NATSCTL" bench sub --js -s "$URL" --timeout 1s --stream S --msgs 150 --json
    [ "$status" -eq 1 ]
    [ "$(jq -c '[.aggregate.sub.msgs, .lost]' <<<"$output")" = '[100,50]' ]
}

@test "sub --js on a missing stream says so" {
    js_serve
    run --separate-stderr "$NATSCTL" bench sub --js -s "$URL" --stream NOPE --msgs 10
    [ "$status" -eq 6 ]
    [[ $stderr == *"stream NOPE: stream not found (err_code 10059)"* ]]
    [ "$output" = "" ]
}

@test "sub --js usage errors" {
    run --separate-stderr "$NATSCTL" bench sub --js --pull --push
    [ "$status" -eq 2 ]
    [[ $stderr == *"--pull and --push exclude each other"* ]]
    run --separate-stderr "$NATSCTL" bench sub --js --push --batch 10
    [ "$status" -eq 2 ]
    run --separate-stderr "$NATSCTL" bench sub --pull
    [ "$status" -eq 2 ]
    [[ $stderr == *"work with sub --js only"* ]]
    run --separate-stderr "$NATSCTL" bench pub --js --ack none
    [ "$status" -eq 2 ]
    run --separate-stderr "$NATSCTL" bench sub --js --ack all
    [ "$status" -eq 2 ]
    run --separate-stderr "$NATSCTL" bench sub --js --batch 0
    [ "$status" -eq 2 ]
    run --separate-stderr "$NATSCTL" bench sub --js --clients 2
    [ "$status" -eq 2 ]
}
