#!/usr/bin/env bats
# Telnet-style sessions through nc, checking exact bytes. `make bats-reference` runs this file
# against the Debian nats-server too (WIRE_SERVER=nats-server), which proves the expectations.

load helpers

teardown() {
    stop_server
}

conf() {
    printf "$1" >"$BATS_TEST_TMPDIR/wire.conf"
    echo "$BATS_TEST_TMPDIR/wire.conf"
}

@test "INFO comes first, with nats-server's fields, order and trailing space" {
    start_server
    run session ''
    [[ ${lines[0]} =~ ^INFO\ \{.*\}\ $'\r'$ ]]
    local json
    json=$(info_json)
    [ "$(jq -r 'keys_unsorted | join(",")' <<<"$json")" = \
        "server_id,server_name,version,proto,go,host,port,headers,max_payload,client_id,client_ip" ]
    [ "$(jq -r .version <<<"$json")" = 2.9.10 ]
    [ "$(jq .proto <<<"$json")" = 1 ]
    [ "$(jq .headers <<<"$json")" = true ]
    [ "$(jq .max_payload <<<"$json")" = 1048576 ]
    [ "$(jq .port <<<"$json")" = "$PORT" ]
    [ "$(jq -r .client_ip <<<"$json")" = 127.0.0.1 ]
    [[ $(jq -r .server_id <<<"$json") =~ ^N[A-Z2-7]{55}$ ]]
}

@test "verbose is on by default: +OK after CONNECT {}, SUB and PUB; PING gets PONG" {
    start_server
    run session_body 'CONNECT {}\r\nSUB foo 1\r\nPUB foo 2\r\nhi\r\nPING\r\n'
    [ "$output" = $'+OK\n+OK\n+OK\nMSG foo 1 2\nhi\nPONG' ]
}

@test "without CONNECT the defaults apply" {
    start_server
    run session_body 'SUB foo 1\r\nPUB foo 1\r\nx\r\n'
    [ "$output" = $'+OK\n+OK\nMSG foo 1 1\nx' ]
}

@test "verbs are case-insensitive, tabs separate, LF alone ends a line, PINGXYZ is a PING" {
    start_server
    run session_body 'connect {"verbose":false}\nsUb\tfoo\t\t 7 \r\nPuB\tfoo\t\t 2 \r\nhi\r\nPINGXYZ\r\nping\n'
    [ "$output" = $'MSG foo 7 2\nhi\nPONG\nPONG' ]
}

@test "pedantic publish to a wildcard gets an error but is still delivered" {
    start_server
    run session_body 'CONNECT {}\r\nSUB > 1\r\nPUB foo.* 1\r\nx\r\nPING\r\n'
    [ "$output" = $'+OK\n+OK\n-ERR \'Invalid Publish Subject\'\n+OK\nMSG foo.* 1 1\nx\nPONG' ]
}

@test "an invalid subscription subject gets 'Invalid Subject' and the connection stays" {
    start_server
    run session_body 'CONNECT {"verbose":false}\r\nSUB foo..bar 2\r\nSUB foo.>.bar 3\r\nPING\r\n'
    [ "$output" = $'-ERR \'Invalid Subject\'\n-ERR \'Invalid Subject\'\nPONG' ]
}

@test "an unknown operation gets 'Unknown Protocol Operation' and a close" {
    start_server
    for input in 'FOO bar\r\n' 'MSG foo 1 2\r\nhi\r\n' '\r\n' 'PUB foo 2\r\nhello\r\n'; do
        run session_body "CONNECT {\"verbose\":false}\r\n${input}PING\r\n"
        [ "$output" = "-ERR 'Unknown Protocol Operation'" ] || { echo "$input: $output"; return 1; }
    done
}

@test "malformed arguments close the connection without an error" {
    start_server
    for input in 'PUB foo abc\r\n' 'PUB a b c 1\r\n' 'SUB a\r\n' 'PUB foo -1\r\n' \
        'PUB foo 1234567890\r\n' 'CONNECT {nope\r\n' 'HPUB foo 2 2\r\nhi\r\n'; do
        run session_body "${input}PING\r\n"
        [ -z "$output" ] || { echo "$input: $output"; return 1; }
    done
}

@test "HPUB with headers is relayed as HMSG, and stripped for a client without headers" {
    start_server
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'CONNECT {"verbose":false}\r\nSUB h 1\r\nPING\r\n' >&5
    run session_body 'CONNECT {"verbose":false,"headers":true}\r\nSUB h 9\r\nHPUB h rep 18 23\r\nNATS/1.0\r\nA: b\r\n\r\nhello\r\nPING\r\n'
    [ "$output" = $'HMSG h 9 rep 18 23\nNATS/1.0\nA: b\n\nhello\nPONG' ]
    printf 'PING\r\n' >&5
    run timeout 1 cat <&5
    exec 5<&-
    [[ $output == *"MSG h 1 rep 5"$'\r\n'"hello"* ]]
}

@test "no-responders: a 503 status message to the requester's matching subscription" {
    start_server
    run session_body 'CONNECT {"verbose":false,"headers":true,"no_responders":true}\r\nSUB _INBOX.abc.* 4\r\nPUB svc _INBOX.abc.1 2\r\nhi\r\nPING\r\n'
    [ "$output" = $'HMSG _INBOX.abc.1 4 16 16\nNATS/1.0 503\n\n\nPONG' ]
}

@test "no 503 without no_responders, and none when somebody got the request" {
    start_server
    run session_body 'CONNECT {"verbose":false,"headers":true}\r\nSUB _INBOX.1 4\r\nPUB svc _INBOX.1 2\r\nhi\r\nPING\r\n'
    [ "$output" = 'PONG' ]
    run session_body 'CONNECT {"verbose":false,"headers":true,"no_responders":true}\r\nSUB svc 1\r\nSUB _INBOX.1 4\r\nPUB svc _INBOX.1 2\r\nhi\r\nPING\r\n'
    [ "$output" = $'MSG svc 1 _INBOX.1 2\nhi\nPONG' ]
}

@test "echo=false keeps a connection's own messages from it" {
    start_server
    run session_body 'CONNECT {"verbose":false,"echo":false}\r\nSUB a 1\r\nPUB a 1\r\nx\r\nPING\r\n'
    [ "$output" = 'PONG' ]
}

@test "duplicate sids are ignored, UNSUB with max delivers exactly max" {
    start_server
    run session_body 'CONNECT {"verbose":false}\r\nSUB a 1\r\nSUB a 1\r\nUNSUB 1 2\r\nPUB a 1\r\nx\r\nPUB a 1\r\ny\r\nPUB a 1\r\nz\r\nUNSUB 99\r\nPING\r\n'
    [ "$output" = $'MSG a 1 1\nx\nMSG a 1 1\ny\nPONG' ]
}

@test "wildcards: * is one token, > is one or more" {
    start_server
    run session_body 'CONNECT {"verbose":false}\r\nSUB foo.* 1\r\nSUB foo.> 2\r\nPUB foo 1\r\na\r\nPUB foo.bar 1\r\nb\r\nPUB foo.bar.baz 1\r\nc\r\nPING\r\n'
    # The order of deliveries to two subscriptions of one connection is not part of the protocol.
    [ "${#lines[@]}" -eq 7 ]
    [[ $output == *$'MSG foo.bar 1 1\nb'* ]]
    [[ $output == *$'MSG foo.bar 2 1\nb'* ]]
    [[ $output == *$'MSG foo.bar.baz 2 1\nc\nPONG' ]]
}

@test "a queue group gets each message exactly once" {
    start_server
    run session_body 'CONNECT {"verbose":false}\r\nSUB q g 1\r\nSUB q g 2\r\nSUB q 3\r\nPUB q 1\r\nx\r\nPING\r\n'
    [ "${#lines[@]}" -eq 5 ]
    [[ $output == *$'MSG q 3 1\nx'* ]]
    [[ $output =~ MSG\ q\ [12]\ 1 ]]
}

@test "reserved reply prefixes are refused" {
    start_server
    run session_body 'CONNECT {"verbose":false}\r\nSUB a 1\r\nPUB a _R_.x 1\r\nx\r\nPING\r\n'
    [ "$output" = $'-ERR \'Permissions Violation for Publish with Reply of "_R_.x"\'\nPONG' ]
}

@test "a control line over 4096 bytes is refused, even before its end arrives" {
    start_server
    local long
    long=$(printf 'a%.0s' $(seq 5000))
    run session_body "SUB $long 1\r\n"
    [ "$output" = "-ERR 'maximum control line exceeded'" ]
    run session_body "SUB $long"
    [ "$output" = "-ERR 'maximum control line exceeded'" ]
}

@test "a payload over max_payload is refused before it is read" {
    start_server
    run session_body 'CONNECT {"verbose":false}\r\nPUB foo 2000000\r\n'
    [ "$output" = "-ERR 'Maximum Payload Violation'" ]
}

@test "CONNECT with a bad protocol, or no_responders without headers, is refused" {
    start_server
    run session_body 'CONNECT {"protocol":2}\r\nPING\r\n'
    [ "$output" = "-ERR 'invalid client protocol'" ]
    run session_body 'CONNECT {"no_responders":true}\r\nPING\r\n'
    [ "$output" = "-ERR 'no responders requires headers support'" ]
}

@test "a client sending -ERR is closed silently; INFO and +OK from a client are ignored" {
    start_server
    run session_body "CONNECT {\"verbose\":false}\r\nINFO {}\r\n+OK\r\nPING\r\n-ERR 'boom'\r\nPING\r\n"
    [ "$output" = 'PONG' ]
}

@test "token authentication" {
    start_server --auth s3cret
    [ "$(info_json | jq .auth_required)" = true ]
    run session_body 'CONNECT {"verbose":false,"auth_token":"s3cret"}\r\nPING\r\n'
    [ "$output" = 'PONG' ]
    run session_body 'CONNECT {"verbose":false,"auth_token":"wrong"}\r\nPING\r\n'
    [ "$output" = "-ERR 'Authorization Violation'" ]
    run session_body 'PING\r\n'
    [ "$output" = "-ERR 'Authorization Violation'" ]
}

@test "user and password authentication" {
    start_server --user bob --pass hunter2
    run session_body 'CONNECT {"verbose":false,"user":"bob","pass":"hunter2"}\r\nPING\r\n'
    [ "$output" = 'PONG' ]
    run session_body 'CONNECT {"verbose":false,"user":"bob","pass":"nope"}\r\nPING\r\n'
    [ "$output" = "-ERR 'Authorization Violation'" ]
}

@test "no CONNECT within the auth timeout gets 'Authentication Timeout'" {
    start_server -c "$(conf 'authorization { token: t, timeout: 0.5 }\n')"
    run bash -c "{ sleep 2; } | timeout 5 nc 127.0.0.1 $PORT | tr -d '\r' | sed 1d"
    [ "$output" = "-ERR 'Authentication Timeout'" ]
}

@test "max_connections: the connection over the limit gets INFO then an error" {
    start_server -c "$(conf 'max_connections: 1\n')"
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    run session ''
    exec 5<&-
    [[ ${lines[0]} == INFO* ]]
    [ "${lines[1]}" = "-ERR 'maximum connections exceeded'"$'\r' ]
}

@test "max_subscriptions: the subscription over the limit is refused, the connection stays" {
    start_server -c "$(conf 'max_subscriptions: 1\n')"
    run session_body 'CONNECT {"verbose":false}\r\nSUB a 1\r\nSUB b 2\r\nPING\r\n'
    [ "$output" = $'-ERR \'maximum subscriptions exceeded\'\nPONG' ]
}

@test "an idle client is pinged and then closed as stale" {
    start_server -c "$(conf 'ping_interval: "1s"\nping_max: 1\n')"
    run bash -c "{ printf 'CONNECT {\"verbose\":false}\r\n'; sleep 4; } | timeout 6 nc 127.0.0.1 $PORT | tr -d '\r' | sed 1d"
    [ "$output" = $'PING\n-ERR \'Stale Connection\'' ]
}
