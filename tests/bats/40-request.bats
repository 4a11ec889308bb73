#!/usr/bin/env bats
# natsctl request against a live server with natsctl reply as the service: bodies, headers, the
# round-trip time, --json parsed back, scatter-gather with --replies and --reply-gap, and the exit
# codes for no responders, a timeout, a service error and Ctrl-C. WIRE_SERVER=nats-server runs
# the same against nats-server.

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

@test "request prints only the reply body on stdout when piped, and nothing on stderr" {
    reply_bg r svc.echo
    req svc.echo ping
    [ "$status" -eq 0 ]
    [ "$output" = ping ]
    [ -z "$stderr" ]
}

@test "request on a terminal shows the round-trip time, the reply headers and the body" {
    reply_bg r svc 'pong' -H 'X-Who: replier'
    run on_tty "$NATSCTL request -s $URL svc ping"
    [ "$status" -eq 0 ]
    [[ ${lines[0]} =~ ^Received\ with\ rtt\ [0-9.]+(ns|µs|ms|s)$ ]]
    [ "${output#*$'\n'}" = $'X-Who: replier\n\npong' ]
}

@test "request --json gives data, headers and rtt_us, parsed back with jq" {
    reply_bg r svc
    req svc 'héllo' -H 'Trace: t1' -H 'Trace: t2' --json
    [ "$status" -eq 0 ]
    jq -e '.data == "héllo" and .headers.Trace == ["t1","t2"] and (.rtt_us | type) == "number"
        and .rtt_us > 0 and .rtt_us < 5000000 and .size == 6' <<<"$output"
}

@test "request reads the body from a pipe and from '-', and sends an empty body otherwise" {
    reply_bg r svc
    run --separate-stderr bash -c "printf 'from pipe' | '$NATSCTL' request -s '$URL' svc --json"
    [ "$(jq -r .data <<<"$output")" = "from pipe" ]
    run --separate-stderr bash -c "printf 'dash' | '$NATSCTL' request -s '$URL' svc - --json"
    [ "$(jq -r .data <<<"$output")" = dash ]
    req svc --json </dev/null
    [ "$status" -eq 0 ]
    [ "$(jq -r .size <<<"$output")" = 0 ]
}

@test "request --count sends N requests in turn with {{Count}} expanded" {
    reply_bg r 'num.*'
    req 'num.{{Count}}' 'n={{Count}}' -H 'N:{{Count}}' --count 3 --json
    [ "$status" -eq 0 ]
    [ "$(jq -r '.data + "|" + .headers.N[0]' <<<"$output" | paste -sd,)" = "n=1|1,n=2|2,n=3|3" ]
    [ "$(grep -c 'Received on "num\.[123]"' "$BATS_TEST_TMPDIR/r.err")" -eq 3 ]
}

@test "request --replies 0 gathers every responder until the reply gap passes" {
    reply_bg a multi one --queue qa
    reply_bg b multi two --queue qb
    reply_bg c multi three --queue qc
    local t0=$SECONDS
    req multi x --replies 0 --reply-gap 200ms --timeout 5s
    [ "$status" -eq 0 ]
    [ "$(sort <<<"$output" | paste -sd,)" = one,three,two ]
    [ -z "$stderr" ]
    # the gap, not the 5 s timeout, ended the wait
    ((SECONDS - t0 < 4))
}

@test "request --replies N stops as soon as N replies are in" {
    reply_bg a multi one --queue qa
    reply_bg b multi two --queue qb
    reply_bg c multi three --queue qc
    req multi x --replies 2 --reply-gap 3s --json
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 2 ]
    jq -e 'select(.rtt_us > 0)' <<<"$output" >/dev/null
}

@test "request --replies N with fewer responders is exit 4 with one line on stderr" {
    reply_bg a multi one --queue qa
    reply_bg b multi two --queue qb
    req multi x --replies 3 --reply-gap 200ms
    [ "$status" -eq 4 ]
    [ "$(sort <<<"$output" | paste -sd,)" = one,two ]
    one_line "$stderr"
    [[ $stderr == *"2 of 3 replies"* ]]
}

@test "repliers in the same queue group answer a request once" {
    reply_bg a shared A
    reply_bg b shared B
    req shared x --replies 0 --reply-gap 200ms
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ $output == A || $output == B ]]
}

@test "request with no responders is exit 5 with one line naming the subject" {
    req nobody.home x
    [ "$status" -eq 5 ]
    [ -z "$output" ]
    one_line "$stderr"
    [[ $stderr == *"no responders"*"nobody.home"* ]]
}

@test "request that nobody answers within --timeout is exit 4 with one line" {
    sub_bg s silent
    local t0=$SECONDS
    req --timeout 300ms silent x
    [ "$status" -eq 4 ]
    [ -z "$output" ]
    one_line "$stderr"
    [[ $stderr == *"silent"*"timeout"* ]]
    ((SECONDS - t0 < 4))
}

@test "request --fail-on-service-error is exit 6 on a Nats-Service-Error-Code reply, 0 without it" {
    reply_bg r fails --command 'sh -c "echo broken; exit 3"'
    req fails x --json
    [ "$status" -eq 0 ]
    [ "$(jq -r '.data + "|" + .headers["Nats-Service-Error-Code"][0]' <<<"$output")" = $'broken\n|500' ]
    req fails x --fail-on-service-error
    [ "$status" -eq 6 ]
    [ "$output" = broken ]
    one_line "$stderr"
}

@test "SIGINT while request waits for a reply is exit 130" {
    sub_bg s silent
    natsctl_bg q request -s "$URL" silent x --timeout 30s
    local q=$BG_PID
    wait_for_text "$BATS_TEST_TMPDIR/s.out" x
    kill -INT "$q"
    wait_exit "$q"
    [ "$EXIT" = 130 ]
}

@test "request rejects bad arguments with a one-line exit 2" {
    local args
    for args in "" "a.* x" "a b c" "x y --replies -1" "x y --reply-gap 0" "x y --count 0" \
        "x y -H nocolon" "x y --timeout soon"; do
        # shellcheck disable=SC2086 # word splitting is the point
        run --separate-stderr "$NATSCTL" request -s "$URL" $args
        [ "$status" -eq 2 ] || { echo "$args: $status"; return 1; }
        [ -z "$output" ]
        one_line "$stderr"
    done
}
