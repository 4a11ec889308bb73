#!/usr/bin/env bats
# The monitoring port as an HTTP server: what it answers to good, bad and hostile requests, and
# that a client which never finishes its request is dropped after the deadline. The endpoints'
# JSON is compared with nats-server's by tests/monitor/compare.sh (make monitor-test).

load helpers

setup() {
    [[ $WIRE_SERVER == natsctl ]] || skip "natsctl's monitoring port"
    MPORT=$((20000 + RANDOM % 30000))
    NATSCTL_HTTP_TIMEOUT_MS=800 start_server -m "$MPORT"
    for ((i = 0; i < 50; i++)); do
        curl -s -o /dev/null "http://127.0.0.1:$MPORT/healthz" && break
        sleep 0.05
    done
}

teardown() {
    exec 8<&- 2>/dev/null || true
    stop_server
}

# raw BYTES: sends printf-style BYTES on a new connection and prints the answer (until close or 3 s).
raw() {
    exec 8<>"/dev/tcp/127.0.0.1/$MPORT"
    printf "$1" >&8
    timeout 3 cat <&8 | tr -d '\r'
    exec 8<&-
}

@test "/healthz answers {\"status\":\"ok\"}, with js-enabled-only too when JetStream is off" {
    run curl -s -w '\n%{http_code} %{content_type}' "http://127.0.0.1:$MPORT/healthz"
    [ "$output" = $'{"status":"ok"}\n200 application/json' ]
    run curl -s -w '\n%{http_code}' "http://127.0.0.1:$MPORT/healthz?js-enabled-only=true"
    [ "$output" = $'{"status":"ok"}\n200' ]
    run curl -s -w '\n%{http_code}' "http://127.0.0.1:$MPORT/healthz?js-enabled-only=maybe"
    [[ $output == *"Error decoding boolean for 'js-enabled-only'"*$'\n400' ]]
}

@test "an unknown path is 404 and / is an index of the endpoints" {
    run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/nope"
    [ "$output" = 404 ]
    run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/varz/"
    [ "$output" = 404 ]
    run curl -s "http://127.0.0.1:$MPORT/"
    [[ $output == *'href=./varz'* && $output == *'href=./connz'* ]]
    [[ $output == *'href=./leafz'* && $output == *'href=./gatewayz'* && $output == *'href=./accstatz'* ]]
}

# shellcheck disable=SC2016 # $G and $SYS are account names, not variables
@test "/leafz, /gatewayz, /accstatz and /ipqueuesz answer as a nats-server without them; /stacksz is 404" {
    local m=http://127.0.0.1:$MPORT
    run curl -s "$m/leafz?subs=1"
    [ "$(jq -c '[.leafnodes, .leafs]' <<<"$output")" = '[0,null]' ]
    run curl -s "$m/gatewayz"
    [ "$(jq -c '[.outbound_gateways, .inbound_gateways]' <<<"$output")" = '[{},{}]' ]
    # Without connections, an account is only listed with unused=1.
    run curl -s "$m/accstatz"
    [ "$(jq -c .account_statz <<<"$output")" = '[]' ]
    run curl -s "$m/accstatz?unused=1"
    [ "$(jq -c '[.account_statz[] | [.acc, .conns, .sent.msgs, .received.bytes]]' <<<"$output")" = '[["$G",0,0,0],["$SYS",0,0,0]]' ]
    run curl -s -w ' %{http_code} %{content_type}' "$m/ipqueuesz?all=1"
    [ "$output" = '{} 200 application/json' ]
    run curl -s -w ' %{http_code}' "$m/accstatz?unused=maybe"
    [ "$output" = "Error decoding boolean for 'unused': strconv.ParseBool: parsing \"maybe\": invalid syntax 400" ]
    # A dump of Go's goroutines in nats-server: natsctl has nothing like it.
    run curl -s -w ' %{http_code}' "$m/stacksz"
    [ "$output" = $'404 page not found\n 404' ]
}

@test "methods other than GET and HEAD are 405 with Allow; HEAD has no body" {
    run curl -s -i -X POST "http://127.0.0.1:$MPORT/varz"
    [[ $output == 'HTTP/1.1 405 '* ]]
    [[ $output == *'Allow: GET, HEAD'* ]]
    run curl -s -I "http://127.0.0.1:$MPORT/varz"
    [[ $output == 'HTTP/1.1 200 OK'* ]]
    [[ $output == *'Content-Type: application/json'* ]]
    [[ $output != *server_id* ]]
}

@test "a malformed request line is 400 and the connection closes" {
    run raw 'GARBAGE\r\n\r\n'
    [[ ${lines[0]} == 'HTTP/1.1 400 Bad Request' ]]
    [[ $output == *'Connection: close'* ]]
    run raw 'GET /varz HTTP/2.0\r\n\r\n'
    [[ ${lines[0]} == 'HTTP/1.1 505 '* ]]
    run raw 'GET /varz HTTP/1.1\r\n folded: header\r\n\r\n'
    [[ ${lines[0]} == 'HTTP/1.1 400 Bad Request' ]]
}

@test "a request head over 8 KiB is 431 and the connection closes" {
    local big
    big=$(head -c 9000 /dev/zero | tr '\0' a)
    run raw "GET /varz HTTP/1.1\r\nX-Big: $big\r\n\r\n"
    [[ ${lines[0]} == 'HTTP/1.1 431 Request Header Fields Too Large' ]]
    # The server still answers others.
    run curl -s "http://127.0.0.1:$MPORT/healthz"
    [ "$output" = '{"status":"ok"}' ]
}

@test "a client that never finishes its request is closed after the deadline" {
    exec 8<>"/dev/tcp/127.0.0.1/$MPORT"
    printf 'GET /varz HTTP/1.1\r\nHost: x\r\n' >&8
    local t0=$SECONDS
    # cat returns at EOF, which the server's close brings after 0.8 s (not the 5 s timeout).
    run timeout 5 cat <&8
    [ "$status" -eq 0 ]
    [ "$output" = '' ]
    ((SECONDS - t0 <= 3))
    exec 8<&-
}

@test "keep-alive: pipelined requests on one connection are answered in order" {
    run raw 'GET /healthz HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\n\r\nGET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n'
    # A body has no line end, so the next status line can follow it on the same line.
    [ "$(grep -o 'HTTP/1.1 [0-9]*' <<<"$output" | tr '\n' ' ')" = 'HTTP/1.1 200 HTTP/1.1 404 HTTP/1.1 200 ' ]
}

@test "a bad query parameter is 400 with nats-server's text" {
    run curl -s -w '\n%{http_code}' "http://127.0.0.1:$MPORT/connz?sort=bogus"
    [ "$output" = $'invalid sorting option: bogus\n400' ]
    run curl -s -w '\n%{http_code}' "http://127.0.0.1:$MPORT/connz?limit=x"
    [ "$output" = $'Error decoding int for \'limit\': strconv.Atoi: parsing "x": invalid syntax\n400' ]
    run curl -s -w '\n%{http_code}' "http://127.0.0.1:$MPORT/connz?sort=stop"
    [ "$output" = $'sort by stop only valid on closed connections\n400' ]
    run curl -s -w '\n%{http_code}' "http://127.0.0.1:$MPORT/subsz?test=a.*"
    [[ $output == 'invalid test subject'*$'\n400' ]]
    # Without JetStream the server leads nothing.
    run curl -s -w '\n%{http_code}' "http://127.0.0.1:$MPORT/jsz?leader-only=true"
    [ "$output" = $'filtered response: not leader\n400' ]
}

@test "?callback= wraps the JSON for JSONP" {
    run curl -s -w '\n%{content_type}' "http://127.0.0.1:$MPORT/healthz?callback=cb"
    [ "$output" = $'cb({"status":"ok"})\napplication/javascript' ]
}

@test "/varz counts the requests of each path" {
    curl -s -o /dev/null "http://127.0.0.1:$MPORT/connz"
    curl -s -o /dev/null "http://127.0.0.1:$MPORT/connz"
    curl -s -o /dev/null "http://127.0.0.1:$MPORT/leafz"
    curl -s -o /dev/null "http://127.0.0.1:$MPORT/ipqueuesz"
    run curl -s "http://127.0.0.1:$MPORT/varz"
    [ "$(jq '.http_req_stats["/connz"]' <<<"$output")" = 2 ]
    [ "$(jq '.http_req_stats["/varz"]' <<<"$output")" = 1 ]
    [ "$(jq '.http_req_stats["/leafz"]' <<<"$output")" = 1 ]
    # nats-server does not count /ipqueuesz.
    [ "$(jq '.http_req_stats | has("/ipqueuesz")' <<<"$output")" = false ]
}

@test "-m -1 and http_port: -1 listen on a free port, logged and in the ports file as nats-server" {
    stop_server
    start_server -m -1
    local mport
    mport=$(grep -o 'Starting http monitor on 127.0.0.1:[0-9]*' "$SERVER_LOG" | sed 's/.*://')
    [[ -n $mport ]]
    [ "$(jq -r '.monitoring[0]' "$(dirname "$SERVER_LOG")"/*.ports)" = "http://127.0.0.1:$mport" ]
    # nats-server reports the -1 it was given, not the port it picked.
    [ "$(curl -s "http://127.0.0.1:$mport/varz" | jq .http_port)" = -1 ]
    stop_server
    printf 'http_port: -1\n' >"$BATS_TEST_TMPDIR/m.conf"
    start_server -c "$BATS_TEST_TMPDIR/m.conf"
    mport=$(jq -r '.monitoring[0]' "$(dirname "$SERVER_LOG")"/*.ports)
    [ "$(curl -s "$mport/healthz")" = '{"status":"ok"}' ]
}
