#!/usr/bin/env bats
# natsctl reply against a live server, driven by natsctl request: echo, templated bodies and
# headers, queue groups, --count, and --command without a shell (a hostile request body stays one
# argument). WIRE_SERVER=nats-server runs the same against nats-server.

load helpers

setup() {
    client_setup
    client_serve
}

teardown() {
    client_teardown
}

req() {
    run --separate-stderr "$NATSCTL" request -s "$URL" "$@"
}

@test "reply without a body or --command echoes the request body and headers" {
    reply_bg r svc.echo
    [ "$(bg_err r)" = "Listening on svc.echo in queue group natsctl-reply" ]
    req svc.echo 'ping {{Count}}' --no-templates -H 'Trace: abc' --json
    [ "$status" -eq 0 ]
    [ "$(jq -c '[.data, .headers]' <<<"$output")" = '["ping {{Count}}",{"Trace":["abc"]}]' ]
}

@test "reply --echo is the same as no body, and logs each request on stderr" {
    reply_bg r svc --echo
    req svc one
    [ "$output" = one ]
    req svc two
    [ "$output" = two ]
    run bg_err r
    [ "${lines[1]}" = '[#1] Received on "svc" (3 bytes)' ]
    [ "${lines[2]}" = '[#2] Received on "svc" (3 bytes)' ]
}

@test "reply BODY expands {{Request}}, subject tokens {{N}} and {{Count}}, and keeps unknown ones" {
    reply_bg r 'time.*' 'in {{2}}: {{Request}} #{{Count}} {{.Count}} {{Nope}} {{9}} {{1}}'
    req time.paris now
    [ "$output" = "in paris: now #1 1 {{Nope}} {{9}} time" ]
    req time.tokyo later
    [ "$output" = "in tokyo: later #2 2 {{Nope}} {{9}} time" ]
}

@test "reply does not expand placeholders that arrive inside the request body" {
    reply_bg r svc 'got {{Request}}'
    req svc '{{Count}} {{ID}}' --no-templates
    [ "$output" = 'got {{Count}} {{ID}}' ]
}

@test "reply BODY expands the time and random placeholders" {
    reply_bg r svc '{{Unix}} {{ID}} {{Random 2 2}}'
    req svc x
    [[ $output =~ ^[0-9]{10}\ [A-Za-z0-9]{22}\ [A-Za-z0-9]{2}$ ]]
}

@test "reply -H adds templated headers to every reply" {
    reply_bg r 'zone.*' ok -H 'X-Zone:{{2}}' -H 'X-Req: {{Request}}' -H 'X-N:{{Count}}'
    req zone.eu body --json
    [ "$(jq -c .headers <<<"$output")" = '{"X-Zone":["eu"],"X-Req":["body"],"X-N":["1"]}' ]
}

@test "reply answers with a service error when {{Request}} would put a newline into a header" {
    reply_bg r svc ok -H 'X-Req: {{Request}}'
    req svc $'two\nlines' --json --timeout 2s
    [ "$status" -eq 0 ]
    [ "$(jq -r '.headers["Nats-Service-Error-Code"][0]' <<<"$output")" = 500 ]
    [ "$(jq -r '.headers | has("X-Req")' <<<"$output")" = false ]
    req svc $'two\nlines' --fail-on-service-error --timeout 2s
    [ "$status" -eq 6 ]
}

@test "reply --no-templates sends its body as written" {
    reply_bg r svc '{{Request}} {{1}}' --no-templates
    req svc x
    [ "$output" = '{{Request}} {{1}}' ]
}

@test "two repliers share the default queue group, so each request is answered once" {
    reply_bg a svc A
    reply_bg b svc B
    req svc x --replies 0 --reply-gap 200ms
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 1 ]
}

@test "repliers with different --queue groups both answer" {
    reply_bg a svc A --queue one
    [ "$(bg_err a)" = "Listening on svc in queue group one" ]
    reply_bg b svc B --queue two
    req svc x --replies 0 --reply-gap 200ms
    [ "$status" -eq 0 ]
    [ "$(sort <<<"$output" | paste -sd,)" = A,B ]
}

@test "reply --count N answers N requests and exits 0" {
    reply_bg r svc A --count 2
    local pid=$BG_PID
    req svc x
    [ "$output" = A ]
    req svc x
    [ "$output" = A ]
    wait_exit "$pid"
    [ "$EXIT" = 0 ]
}

@test "reply --command replies with the program's output, arguments substituted one by one" {
    reply_bg r 'files.*.get' --command "printf '[%s]' {{2}} 'literal {{2}}' {{Request}} {{Count}}"
    req files.abc.get 'a b'
    [ "$status" -eq 0 ]
    [ "$output" = '[abc][literal abc][a b][1]' ]
}

@test "reply --command runs no shell: a hostile request body stays one literal argument" {
    reply_bg r 'cmd.*' --command "printf '%s|' {{Request}} {{2}}"
    local body='x; touch '"$BATS_TEST_TMPDIR"'/pwned $(touch '"$BATS_TEST_TMPDIR"'/pwned2) `id` > /tmp/y'
    req cmd.tok "$body"
    [ "$status" -eq 0 ]
    [ "$output" = "$body|tok|" ]
    [ ! -e "$BATS_TEST_TMPDIR/pwned" ]
    [ ! -e "$BATS_TEST_TMPDIR/pwned2" ]
}

@test "reply --command gives the program the body on stdin and NATS_REQUEST_SUBJECT and _BODY" {
    reply_bg r 'env.*' --command \
        'sh -c "printf \"%s:%s:%s\" \"\$NATS_REQUEST_SUBJECT\" \"\$NATS_REQUEST_BODY\" \"\$(cat)\""'
    req env.one 'some data'
    [ "$status" -eq 0 ]
    [ "$output" = "env.one:some data:some data" ]
}

@test "reply --command keeps the -H headers on the reply" {
    reply_bg r 'h.*' --command 'echo hi' -H 'X-Tok:{{2}}'
    req h.t1 x --json
    [ "$(jq -c '[.data, .headers]' <<<"$output")" = '["hi\n",{"X-Tok":["t1"]}]' ]
}

@test "reply --command that exits non-zero still replies, with the Nats-Service-Error headers" {
    reply_bg r fails --command 'sh -c "echo partial; exit 3"' -H 'X-Keep: yes'
    req fails x --json
    [ "$status" -eq 0 ]
    [ "$(jq -r .data <<<"$output")" = partial ]
    [ "$(jq -r '.headers["Nats-Service-Error-Code"][0]' <<<"$output")" = 500 ]
    [[ $(jq -r '.headers["Nats-Service-Error"][0]' <<<"$output") == *"status 3"* ]]
    [ "$(jq -r '.headers["X-Keep"][0]' <<<"$output")" = yes ]
    [[ $(bg_err r) == *"command exited with status 3"* ]]
}

@test "reply --command with a missing program replies with a service error instead of hanging" {
    reply_bg r svc --command 'natsctl-no-such-program {{Request}}'
    req svc x --json --timeout 2s
    [ "$status" -eq 0 ]
    [ "$(jq -r '.headers["Nats-Service-Error-Code"][0]' <<<"$output")" = 500 ]
}

@test "SIGINT and SIGTERM stop reply with exit 0" {
    reply_bg a svc
    local a=$BG_PID
    reply_bg b svc
    local b=$BG_PID
    kill -INT "$a"
    kill -TERM "$b"
    wait_exit "$a"
    [ "$EXIT" = 0 ]
    wait_exit "$b"
    [ "$EXIT" = 0 ]
}

@test "SIGINT stops reply at once while its --command runs: the program ends, the requester hears" {
    reply_bg r slow --command "sh -c 'echo \$\$ >$BATS_TEST_TMPDIR/child.pid; exec sleep 30'"
    local reply=$BG_PID
    natsctl_bg q request -s "$URL" slow x --json --timeout 20s
    local q=$BG_PID
    wait_for_text "$BATS_TEST_TMPDIR/r.err" "Received on"
    local i
    for ((i = 0; i < 100; i++)); do
        [ -s "$BATS_TEST_TMPDIR/child.pid" ] && break
        sleep 0.05
    done
    kill -INT "$reply"
    wait_exit "$reply" 5
    [ "$EXIT" = 0 ]
    wait_exit "$q" 5
    [ "$EXIT" = 0 ]
    [ "$(jq -r '.headers["Nats-Service-Error-Code"][0]' "$BATS_TEST_TMPDIR/q.out")" = 500 ]
    local child
    child=$(cat "$BATS_TEST_TMPDIR/child.pid")
    for ((i = 0; i < 100; i++)); do
        kill -0 "$child" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$child" 2>/dev/null; then
        echo "the program outlived the replier" >&2
        return 1
    fi
}

@test "reply rejects bad arguments with a one-line exit 2" {
    local args
    for args in "" "a..b" "x body --echo" "x body --command true" "x --echo -H a:b" \
        "x --command ''" "x --command \"'unterminated\"" "x --queue ''" "x --count 0" "x y z"; do
        eval "run --separate-stderr \"\$NATSCTL\" reply -s \"\$URL\" $args"
        [ "$status" -eq 2 ] || { echo "$args: $status"; return 1; }
        [ -z "$output" ]
        one_line "$stderr"
    done
}

@test "reply logs a request subject with control bytes escaped, so it cannot drive the terminal" {
    reply_bg r 'svc.>' --count 1
    req "$(printf 'svc.\x1b]0;pwned\x07')" x
    [ "$status" -eq 0 ]
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    run bg_err r
    [ "${lines[1]}" = '[#1] Received on "svc.\x1b]0;pwned\x07" (1 bytes)' ]
}
