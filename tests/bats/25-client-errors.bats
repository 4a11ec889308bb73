#!/usr/bin/env bats
# The global connection options of pub, sub, request and reply (-s, NATS_URL, --user/--password,
# --token and their variables, URL userinfo, --timeout, --name), and the exit codes of cli.md 11.3
# that are not about one command: each failure is its own code with exactly one line on stderr,
# and no password or token ever shows. WIRE_SERVER=nats-server runs the same against nats-server.

load helpers

setup() {
    client_setup
    unset NATS_URL NATS_USER NATS_PASSWORD NATS_TOKEN NATS_TIMEOUT NATS_CREDS NATS_NKEY
}

teardown() {
    client_teardown
}

# every_client CHECK-FUNCTION ARGS...: runs `natsctl CMD ARGS` for each client command, with the
# arguments it needs, then CHECK-FUNCTION CMD.
every_client() {
    local check=$1 cmd
    shift
    for cmd in "pub x y" "sub x" "request x y" "reply x"; do
        # shellcheck disable=SC2086 # word splitting is the point
        run --separate-stderr timeout 10 "$NATSCTL" $cmd "$@"
        "$check" "$cmd" || return 1
    done
}

# fake_server: a listener that sends INFO, records what the client sends in $FAKE_IN, and never
# answers the PING; sets FAKE_PORT. Each call uses new files, so no wait sees an earlier one's.
fake_server() {
    FAKE_N=$((${FAKE_N:-0} + 1))
    local base=$BATS_TEST_TMPDIR/fake$FAKE_N
    FAKE_IN=$base.in
    printf 'INFO {"server_id":"fake","version":"2.10.0","proto":1,"max_payload":1048576,"headers":true}\r\n' \
        >"$base.info"
    # nc keeps the connection after the end of its stdin, until the client closes it
    nc -v -l 127.0.0.1 0 <"$base.info" >"$FAKE_IN" 2>"$base.err" 3>&- &
    BG_PIDS+=($!)
    wait_for_text "$base.err" "Listening on"
    FAKE_PORT=$(grep -oE '[0-9]+$' "$base.err" | head -1)
}

unreachable_is_exit_3() {
    [ "$status" -eq 3 ] || { echo "$1: exit $status"; return 1; }
    [ -z "$output" ]
    one_line "$stderr"
    [[ $stderr == "natsctl ${1%% *}: cannot connect to nats://127.0.0.1:1"* ]]
}

@test "every client command exits 3 with one line naming the server when it cannot connect" {
    every_client unreachable_is_exit_3 -s nats://127.0.0.1:1
}

@test "without -s or NATS_URL the clients try nats://127.0.0.1:4222" {
    if nc -z 127.0.0.1 4222 2>/dev/null; then skip "something listens on 127.0.0.1:4222"; fi
    run --separate-stderr "$NATSCTL" pub x y
    [ "$status" -eq 3 ]
    one_line "$stderr"
    [[ $stderr == *"nats://127.0.0.1:4222"* ]]
    NATS_URL='' run --separate-stderr "$NATSCTL" pub x y
    [ "$status" -eq 3 ]
    [[ $stderr == *"nats://127.0.0.1:4222"* ]]
}

@test "NATS_URL is used without -s, -s wins over it, and a list is tried in order" {
    client_serve
    NATS_URL=$URL run "$NATSCTL" pub x y
    [ "$status" -eq 0 ]
    NATS_URL=nats://127.0.0.1:1 run "$NATSCTL" pub -s "$URL" x y
    [ "$status" -eq 0 ]
    NATS_URL=$URL run --separate-stderr "$NATSCTL" pub -s nats://127.0.0.1:1 x y
    [ "$status" -eq 3 ]
    NATS_URL="nats://127.0.0.1:1,$URL" run "$NATSCTL" pub x y
    [ "$status" -eq 0 ]
    run "$NATSCTL" pub -s "127.0.0.1:$PORT" x y
    [ "$status" -eq 0 ]
}

@test "global options work before the command as well as after it" {
    client_serve
    run "$NATSCTL" -s "$URL" --timeout=2s pub x y
    [ "$status" -eq 0 ]
    run --separate-stderr "$NATSCTL" --server nats://127.0.0.1:1 pub x y
    [ "$status" -eq 3 ]
    run --separate-stderr "$NATSCTL" -s "$URL"
    [ "$status" -eq 2 ]
    one_line "$stderr"
}

@test "--user and --password, their variables, and URL userinfo all authenticate" {
    client_serve --user alice --pass s3cretpw
    run "$NATSCTL" pub -s "$URL" --user alice --password s3cretpw x y
    [ "$status" -eq 0 ]
    NATS_USER=alice NATS_PASSWORD=s3cretpw run "$NATSCTL" pub -s "$URL" x y
    [ "$status" -eq 0 ]
    run "$NATSCTL" pub -s "nats://alice:s3cretpw@127.0.0.1:$PORT" x y
    [ "$status" -eq 0 ]
    # the flag wins over the variable
    NATS_PASSWORD=wrong run "$NATSCTL" pub -s "$URL" --user alice --password s3cretpw x y
    [ "$status" -eq 0 ]
}

refused_is_exit_3() {
    [ "$status" -eq 3 ] || { echo "$1: exit $status"; return 1; }
    [ -z "$output" ]
    one_line "$stderr"
    [[ $stderr != *wrongpw* && $stderr != *s3cretpw* ]] || { echo "secret shown: $stderr"; return 1; }
}

@test "a wrong password is exit 3 with one line that never shows the password, for every command" {
    client_serve --user alice --pass s3cretpw
    every_client refused_is_exit_3 -s "$URL" --user alice --password wrongpw
    every_client refused_is_exit_3 -s "nats://alice:wrongpw@127.0.0.1:$PORT"
    [[ $stderr == *"nats://alice:***@127.0.0.1:$PORT"* ]]
    NATS_USER=alice NATS_PASSWORD=wrongpw every_client refused_is_exit_3 -s "$URL"
}

@test "no responders (5) and a timeout (4) keep their own codes and one line on an authenticated connection" {
    client_serve --user alice --pass s3cretpw
    local auth="nats://alice:s3cretpw@127.0.0.1:$PORT"
    run --separate-stderr "$NATSCTL" request -s "$auth" nobody x
    [ "$status" -eq 5 ]
    one_line "$stderr"
    [[ $stderr != *s3cretpw* ]]
    natsctl_bg s sub -s "$auth" silent
    wait_for_text "$BATS_TEST_TMPDIR/s.err" "Subscribing on"
    run --separate-stderr "$NATSCTL" request -s "$auth" silent x --timeout 300ms
    [ "$status" -eq 4 ]
    one_line "$stderr"
    [[ $stderr != *s3cretpw* ]]
    run --separate-stderr "$NATSCTL" request -s "$URL" --user alice --password s3cretpw silent x \
        --timeout 300ms
    [ "$status" -eq 4 ]
    [[ $stderr != *s3cretpw* ]]
}

@test "connecting without credentials to a server that wants them is exit 3" {
    client_serve --user alice --pass s3cretpw
    run --separate-stderr "$NATSCTL" pub -s "$URL" x y
    [ "$status" -eq 3 ]
    one_line "$stderr"
}

@test "--token, NATS_TOKEN and a token in the URL authenticate; a wrong one is exit 3 and never shown" {
    client_serve --auth t0kenvalue
    run "$NATSCTL" pub -s "$URL" --token t0kenvalue x y
    [ "$status" -eq 0 ]
    NATS_TOKEN=t0kenvalue run "$NATSCTL" pub -s "$URL" x y
    [ "$status" -eq 0 ]
    run "$NATSCTL" pub -s "nats://t0kenvalue@127.0.0.1:$PORT" x y
    [ "$status" -eq 0 ]
    local cmd
    for cmd in "pub x y" "sub x" "request x y" "reply x"; do
        # shellcheck disable=SC2086 # word splitting is the point
        run --separate-stderr "$NATSCTL" $cmd -s "nats://badt0ken@127.0.0.1:$PORT"
        [ "$status" -eq 3 ]
        one_line "$stderr"
        [[ $stderr != *badt0ken* && $stderr == *"nats://***@127.0.0.1:$PORT"* ]]
        # shellcheck disable=SC2086
        run --separate-stderr "$NATSCTL" $cmd -s "$URL" --token badt0ken
        [ "$status" -eq 3 ]
        [[ $stderr != *badt0ken* ]]
    done
}

@test "usage errors about the connection never show the password" {
    run --separate-stderr "$NATSCTL" pub -s "ws://alice:s3cretpw@127.0.0.1:4222" x y
    [ "$status" -eq 2 ]
    one_line "$stderr"
    [[ $stderr != *s3cretpw* ]]
    run --separate-stderr "$NATSCTL" pub -s "tls://alice:s3cretpw@127.0.0.1:1" x y
    [ "$status" -eq 3 ]
    [[ $stderr != *s3cretpw* && $stderr == *"tls://alice:***@127.0.0.1:1"* ]]
    run --separate-stderr "$NATSCTL" pub -s "nats://alice:s3cretpw@[::1" x y
    [ "$status" -eq 2 ]
    [[ $stderr != *s3cretpw* ]]
}

@test "--creds, --nkey and NATS_CREDS naming a file without a key fail with exit 2 in one line" {
    run --separate-stderr "$NATSCTL" pub --creds /dev/null x y
    [ "$status" -eq 2 ]
    one_line "$stderr"
    run --separate-stderr "$NATSCTL" sub --nkey /dev/null x
    [ "$status" -eq 2 ]
    NATS_CREDS=/dev/null run --separate-stderr "$NATSCTL" request x y
    [ "$status" -eq 2 ]
    one_line "$stderr"
}

@test "--name sets the connection name sent in CONNECT, and the default is natsctl <command>" {
    fake_server
    run --separate-stderr "$NATSCTL" pub -s "nats://127.0.0.1:$FAKE_PORT" --timeout 300ms \
        --name 'my tool' x y
    [ "$status" -eq 3 ]
    wait_for_text "$FAKE_IN" CONNECT
    [ "$(sed -n 's/^CONNECT //p' "$FAKE_IN" | tr -d '\r' | jq -r .name)" = "my tool" ]
    fake_server
    run --separate-stderr "$NATSCTL" sub -s "nats://127.0.0.1:$FAKE_PORT" --timeout 300ms x
    wait_for_text "$FAKE_IN" CONNECT
    [ "$(sed -n 's/^CONNECT //p' "$FAKE_IN" | tr -d '\r' | jq -r .name)" = "natsctl sub" ]
}

@test "--timeout and NATS_TIMEOUT bound a connection handshake the server never completes" {
    fake_server
    local t0=$SECONDS
    run --separate-stderr "$NATSCTL" pub -s "nats://127.0.0.1:$FAKE_PORT" --timeout 300ms x y
    [ "$status" -eq 3 ]
    one_line "$stderr"
    ((SECONDS - t0 < 4))
    fake_server
    t0=$SECONDS
    NATS_TIMEOUT=300ms run --separate-stderr "$NATSCTL" pub -s "nats://127.0.0.1:$FAKE_PORT" x y
    [ "$status" -eq 3 ]
    ((SECONDS - t0 < 4))
}

@test "NATS_TIMEOUT bounds a request, and --timeout wins over it" {
    client_serve
    sub_bg s silent
    local t0=$SECONDS
    NATS_TIMEOUT=300ms run --separate-stderr "$NATSCTL" request -s "$URL" silent x
    [ "$status" -eq 4 ]
    ((SECONDS - t0 < 4))
    NATS_TIMEOUT=20s run --separate-stderr "$NATSCTL" request -s "$URL" silent x --timeout 300ms
    [ "$status" -eq 4 ]
    ((SECONDS - t0 < 8))
}

@test "a bad --timeout or NATS_TIMEOUT is a one-line usage error" {
    run --separate-stderr "$NATSCTL" pub --timeout soon x y
    [ "$status" -eq 2 ]
    one_line "$stderr"
    NATS_TIMEOUT=-1s run --separate-stderr "$NATSCTL" pub x y
    [ "$status" -eq 2 ]
    one_line "$stderr"
}

@test "a message over the server's max_payload is exit 6 with one line, for pub and request" {
    # nats-server has no --max_payload flag: it takes the limit from a configuration file
    if [[ $WIRE_SERVER == nats-server ]]; then
        printf 'max_payload: 1024\n' >"$BATS_TEST_TMPDIR/small.conf"
        client_serve -c "$BATS_TEST_TMPDIR/small.conf"
    else
        client_serve --max_payload 1024
    fi
    local big
    big=$(head -c 2000 /dev/zero | tr '\0' x)
    run --separate-stderr "$NATSCTL" pub -s "$URL" big "$big"
    [ "$status" -eq 6 ]
    [ -z "$output" ]
    [ "$stderr" = "natsctl pub: payload 2000 bytes > max_payload 1024" ]
    run --separate-stderr "$NATSCTL" request -s "$URL" big "$big"
    [ "$status" -eq 6 ]
    [ "$stderr" = "natsctl request: payload 2000 bytes > max_payload 1024" ]
    run --separate-stderr "$NATSCTL" pub -s "$URL" -H 'K:v' big "${big:0:1020}"
    [ "$status" -eq 6 ]
    [[ $stderr == "natsctl pub: payload "*" bytes (headers included) > max_payload 1024" ]]
    # just under the limit still goes through
    run "$NATSCTL" pub -s "$URL" big "${big:0:1000}"
    [ "$status" -eq 0 ]
}

@test "a failed write to stdout is exit 1 with one line, for sub and request" {
    client_serve
    reply_bg r svc
    natsctl_bg s sub -s "$URL" full
    local sub=$BG_PID
    wait_for_text "$BATS_TEST_TMPDIR/s.err" "Subscribing on"
    "$NATSCTL" sub -s "$URL" full --count 1 >/dev/full 2>"$BATS_TEST_TMPDIR/full.err" </dev/null 3>&- &
    local pid=$!
    BG_PIDS+=("$pid")
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q Subscribing "$BATS_TEST_TMPDIR/full.err" 2>/dev/null && break
        sleep 0.05
    done
    "$NATSCTL" pub -s "$URL" full x
    wait_exit "$pid"
    [ "$EXIT" = 1 ]
    run sed 1d "$BATS_TEST_TMPDIR/full.err"
    one_line "$output"
    run --separate-stderr bash -c "'$NATSCTL' request -s '$URL' svc x >/dev/full"
    [ "$status" -eq 1 ]
    one_line "$stderr"
    kill -INT "$sub"
}

@test "a bounded sub whose server goes away is exit 3 with one line" {
    client_serve
    sub_bg s gone --count 5
    stop_server
    wait_exit "$BG_PID"
    [ "$EXIT" = 3 ]
    run sed 1d "$BATS_TEST_TMPDIR/s.err"
    one_line "$output"
}

@test "every client command documents its exit codes and examples in --help" {
    local cmd
    for cmd in pub sub request reply; do
        run --separate-stderr "$NATSCTL" "$cmd" --help
        [ "$status" -eq 0 ]
        [ -z "$stderr" ]
        [[ $output == *"Examples:"* ]] || { echo "$cmd: no examples"; return 1; }
        [[ $output == *"130"* ]] || { echo "$cmd: no exit codes"; return 1; }
    done
}

@test "errors say why: empty token, wildcard, blank, '>' not last, -H shape, --count 0" {
    client_serve
    local cmd
    for cmd in pub request; do
        run --separate-stderr "$NATSCTL" $cmd -s "$URL" a..b x
        [ "$status" -eq 2 ]
        [ "$stderr" = "natsctl $cmd: invalid subject 'a..b': empty token (a leading, trailing or doubled '.')" ]
        run --separate-stderr "$NATSCTL" $cmd -s "$URL" 'a.*' x
        [ "$status" -eq 2 ]
        [[ $stderr == *"invalid subject 'a.*': wildcard token"* ]]
        run --separate-stderr "$NATSCTL" $cmd -s "$URL" -H novalue a x
        [ "$status" -eq 2 ]
        [ "$stderr" = "natsctl $cmd: invalid -H 'novalue': want KEY:VALUE with a non-empty key without blanks" ]
        run --separate-stderr "$NATSCTL" $cmd -s "$URL" --count 0 a x
        [ "$status" -eq 2 ]
        [ "$stderr" = "natsctl $cmd: invalid --count '0': want a positive whole number" ]
    done
    for cmd in sub reply; do
        run --separate-stderr "$NATSCTL" $cmd -s "$URL" 'a.>.b'
        [ "$status" -eq 2 ]
        [ "$stderr" = "natsctl $cmd: invalid subject 'a.>.b': '>' must be the last token" ]
        run --separate-stderr "$NATSCTL" $cmd -s "$URL" '.a'
        [ "$status" -eq 2 ]
        [[ $stderr == *"empty token"* ]]
        run --separate-stderr "$NATSCTL" $cmd -s "$URL" --count 0 a
        [ "$status" -eq 2 ]
        [[ $stderr == *"want a positive whole number"* ]]
    done
    run --separate-stderr "$NATSCTL" pub -s "$URL" --reply 'r s' a x
    [ "$status" -eq 2 ]
    [[ $stderr == *"invalid reply subject 'r s': blank character"* ]]
}

@test "a subject over the control line limit is refused before sending, with the numbers" {
    client_serve
    local long
    long=$(head -c 5000 /dev/zero | tr '\0' a)
    run --separate-stderr "$NATSCTL" pub -s "$URL" "$long" x
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl pub: subject too long (5000 > 4094 bytes: the control line limit is 4096)" ]
    run --separate-stderr "$NATSCTL" sub -s "$URL" "$long"
    [ "$status" -eq 2 ]
    [[ $stderr == *"subject too long (5000 > "*" bytes: the control line limit is 4096)" ]]
    run --separate-stderr "$NATSCTL" request -s "$URL" "$long" x
    [ "$status" -eq 2 ]
    [[ $stderr == *"subject too long"* ]]
    # a templated subject is checked once expanded, with its real sizes: "PUB <subject> 10"
    run --separate-stderr "$NATSCTL" pub -s "$URL" "${long:0:4093}{{Count}}" 0123456789
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl pub: subject too long (4094 > 4093 bytes: the control line limit is 4096)" ]
    # the longest subject that fits goes through and arrives
    sub_bg s '>' --count 1
    run "$NATSCTL" pub -s "$URL" "${long:0:4094}" x
    [ "$status" -eq 0 ]
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [ "$(bg_out s)" = x ]
}

@test "request and sub refuse two output formats with exit 2" {
    run --separate-stderr "$NATSCTL" request -s nats://127.0.0.1:1 --raw --json a x
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl request: --raw and --json cannot be combined: choose one output format" ]
    run --separate-stderr "$NATSCTL" sub -s nats://127.0.0.1:1 --pretty --json a
    [ "$status" -eq 2 ]
    one_line "$stderr"
}
