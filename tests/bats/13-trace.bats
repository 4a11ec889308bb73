#!/usr/bin/env bats
# What the server tells an operator about each connection (-V, nats-server's trace format), and an
# INFO line that is never cut, however long its JSON grows.

load helpers

teardown() {
    stop_server
}

@test "-V traces operations with the client's address and name, secrets redacted" {
    [[ $WIRE_SERVER == natsctl ]] || skip "natsctl's log lines"
    start_server -V --user alice --pass s3cret
    run "$NATSCTL" pub -s "nats://alice:s3cret@127.0.0.1:$PORT" greet.x hello
    [ "$status" -eq 0 ]
    stop_server
    run cat "$SERVER_LOG"
    [[ $output == *'"pass":"[REDACTED]"'* ]]
    [[ $output != *s3cret* ]]
    [[ $output =~ 127\.0\.0\.1:[0-9]+\ -\ cid:[0-9]+\ -\ \"v[^\"]*:C:natsctl\ pub\"\ -\ \<\<-\ \[PUB\ greet\.x\ 5\] ]]
    [[ $output == *'<<- MSG_PAYLOAD: ["hello"]'* ]]
    [[ $output == *'->> [PONG]'* ]]
}

@test "-V shows what the server sends, and control bytes in payloads as escapes" {
    [[ $WIRE_SERVER == natsctl ]] || skip "natsctl's log lines"
    start_server -V
    run session 'CONNECT {"verbose":false}\r\nSUB t 9\r\nPUB t 4\r\na\x1bb\n\r\nPING\r\n'
    [[ $output == *"MSG t 9 4"* ]]
    stop_server
    run cat "$SERVER_LOG"
    [[ $output == *'->> [MSG t 9 4]'* ]]
    [[ $output == *'<<- MSG_PAYLOAD: ["a\x1bb\n"]'* ]]
}

@test "INFO is sent whole however long it is" {
    local name
    name=$(printf 'n%.0s' {1..5000})
    start_server -n "$name"
    run info_json
    [ "$(jq -r .server_name <<<"$output")" = "$name" ]
}
