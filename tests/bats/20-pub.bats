#!/usr/bin/env bats
# natsctl pub against a live server: where the body comes from, --count, --sleep, headers, --reply,
# --lines, the placeholders, and the progress bar on a terminal. A `natsctl sub --json` in the
# background records what arrived. WIRE_SERVER=nats-server runs the same against nats-server.

load helpers

setup() {
    client_setup
    client_serve
}

teardown() {
    client_teardown
}

# json_of NAME FILTER: jq -r FILTER over the NDJSON a background sub wrote.
json_of() {
    jq -r "$2" "$BATS_TEST_TMPDIR/$1.out"
}

@test "pub sends the body argument and prints nothing on stdout or stderr" {
    sub_bg s greet --count 1 --json
    run --separate-stderr "$NATSCTL" pub -s "$URL" greet 'hello world'
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ -z "$stderr" ]
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [ "$(json_of s '.subject + "|" + .data')" = "greet|hello world" ]
}

@test "pub reads the body from a pipe, from a file and from '-', byte for byte" {
    sub_bg s in --count 3 --json
    printf 'piped\n' | "$NATSCTL" pub -s "$URL" in
    printf 'from\na file' >"$BATS_TEST_TMPDIR/body"
    "$NATSCTL" pub -s "$URL" in <"$BATS_TEST_TMPDIR/body"
    printf 'dash' | "$NATSCTL" pub -s "$URL" in -
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [ "$(json_of s '.data | @json' | paste -sd,)" = '"piped\n","from\na file","dash"' ]
}

@test "pub with a body argument ignores a pipe on stdin" {
    sub_bg s in --count 1 --json
    echo ignored | "$NATSCTL" pub -s "$URL" in argument
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [ "$(json_of s .data)" = argument ]
}

@test "pub without a body and /dev/null as stdin is a one-line usage error, exit 2, nothing sent" {
    sub_bg s x --json
    run --separate-stderr "$NATSCTL" pub -s "$URL" x </dev/null
    [ "$status" -eq 2 ]
    [ -z "$output" ]
    one_line "$stderr"
    [[ $stderr == *"no body"* ]]
    run "$NATSCTL" pub -s "$URL" --empty x </dev/null
    [ "$status" -eq 0 ]
    # the empty message is the first and only one the subscriber saw
    wait_for_text "$BATS_TEST_TMPDIR/s.out" '"size":0'
    [ "$(json_of s .data)" = "" ]
    [ "$(wc -l <"$BATS_TEST_TMPDIR/s.out")" -eq 1 ]
}

@test "pub on a terminal without a body says on stderr it reads the terminal, then sends what was typed" {
    sub_bg s tty --count 1 --json
    run on_tty "printf 'typed\n' | script -qefc '$NATSCTL pub -s $URL tty 2>$BATS_TEST_TMPDIR/err' /dev/null"
    [ "$status" -eq 0 ]
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [ "$(cat "$BATS_TEST_TMPDIR/err")" = "reading body from terminal, end with ^D" ]
    [ "$(json_of s .data)" = typed ]
}

@test "pub on a terminal ends at ^D with an empty body when nothing was typed" {
    sub_bg s tty --count 1 --json
    run on_tty "$NATSCTL pub -s $URL tty"
    [ "$status" -eq 0 ]
    [[ $output == *"reading body from terminal, end with ^D"* ]]
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [ "$(json_of s .size)" = 0 ]
}

@test "pub --count sends N messages with {{Count}} expanded in subject, body and headers" {
    sub_bg s 'n.>' --count 3 --json
    run "$NATSCTL" pub -s "$URL" --count 3 -H 'Seq:{{Count}}' -H 'Dot: {{.Count}}' \
        'n.{{Count}}' 'msg {{Count}}'
    [ "$status" -eq 0 ]
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    run json_of s '[.subject, .data, .headers.Seq[0], .headers.Dot[0]] | join("|")'
    [ "$output" = $'n.1|msg 1|1|1\nn.2|msg 2|2|2\nn.3|msg 3|3|3' ]
}

@test "pub expands TimeStamp, Unix, UnixNano, Time, ID and Random, fresh for every message" {
    sub_bg s ph --count 2 --json
    "$NATSCTL" pub -s "$URL" --count 2 ph \
        '{{TimeStamp}}|{{Unix}}|{{UnixNano}}|{{Time}}|{{ID}}|{{Random 3 5}}|{{ Random 7 7 }}'
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    local re='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})'
    re+='\|[0-9]{10}\|[0-9]{19}\|[0-9]{1,2}:[0-9]{2}(AM|PM)\|[A-Za-z0-9]{22}\|[A-Za-z0-9]{3,5}'
    re+='\|[A-Za-z0-9]{7}$'
    run json_of s .data
    [ "${#lines[@]}" -eq 2 ]
    [[ ${lines[0]} =~ $re ]]
    [[ ${lines[1]} =~ $re ]]
    # the ID differs between messages, and Unix is within a minute of now
    [ "$(cut -d'|' -f5 <<<"$output" | sort -u | wc -l)" -eq 2 ]
    local unix
    unix=$(head -1 <<<"$output" | cut -d'|' -f2)
    ((unix > $(date +%s) - 60 && unix <= $(date +%s)))
}

@test "pub leaves unknown placeholders and JSON braces as written" {
    sub_bg s keep --count 1 --json
    "$NATSCTL" pub -s "$URL" -H 'Keep:{{Nope}}' keep '{{Nope}} {{ Count x }} {"a":{"b":1}} {{Count'
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [ "$(json_of s .data)" = '{{Nope}} {{ Count x }} {"a":{"b":1}} {{Count' ]
    [ "$(json_of s '.headers.Keep[0]')" = '{{Nope}}' ]
}

@test "pub --no-templates sends the placeholders themselves" {
    sub_bg s raw --count 1 --json
    "$NATSCTL" pub -s "$URL" --no-templates raw '{{Count}} {{ID}}'
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [ "$(json_of s .data)" = '{{Count}} {{ID}}' ]
}

@test "pub -H is repeatable, keeps repeated keys in order, and trims blanks around the colon" {
    sub_bg s hdr --count 1 --json
    "$NATSCTL" pub -s "$URL" -H 'A: 1' -H 'A:2' -H 'Trace-Id :  abc def ' --header B:x hdr body
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [ "$(json_of s '.headers | tojson')" = '{"A":["1","2"],"Trace-Id":["abc def"],"B":["x"]}' ]
}

@test "pub --reply sets the reply subject and --sleep spaces the messages out in order" {
    sub_bg s slow --count 3 --json
    local t0=$SECONDS
    run "$NATSCTL" pub -s "$URL" --count 3 --sleep 100ms --reply back.here slow 'x{{Count}}'
    [ "$status" -eq 0 ]
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [ "$(json_of s '.reply + " " + .data' | paste -sd,)" = "back.here x1,back.here x2,back.here x3" ]
    # two sleeps of 100 ms: measurable with ts, and well under the bound
    local first last
    first=$(json_of s '.ts' | head -1 | sed -E 's/.*:([0-9.]+)Z/\1/')
    last=$(json_of s '.ts' | tail -1 | sed -E 's/.*:([0-9.]+)Z/\1/')
    awk -v a="$first" -v b="$last" 'BEGIN { d = b - a; if (d < 0) d += 60; exit !(d >= 0.19) }'
    ((SECONDS - t0 < 5))
}

@test "pub --lines sends one message per line, CRLF trimmed, a last line without newline included" {
    sub_bg s lines --count 4 --json
    printf 'one\r\ntwo\n\nthree' | "$NATSCTL" pub -s "$URL" --lines lines
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [ "$(json_of s .data | paste -sd,)" = "one,two,,three" ]
}

@test "pub --lines expands {{Count}} per line in headers and bodies" {
    sub_bg s lines --count 2 --json
    printf 'a\nb {{Count}}\n' | "$NATSCTL" pub -s "$URL" --lines -H 'N:{{Count}}' lines
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [ "$(json_of s '.data + "|" + .headers.N[0]' | paste -sd,)" = "a|1,b 2|2" ]
}

@test "pub --lines with a body argument, --count or /dev/null as stdin is a usage error" {
    run --separate-stderr "$NATSCTL" pub -s "$URL" --lines x body
    [ "$status" -eq 2 ]
    one_line "$stderr"
    run --separate-stderr "$NATSCTL" pub -s "$URL" --lines --count 2 x </dev/null
    [ "$status" -eq 2 ]
    one_line "$stderr"
    run --separate-stderr "$NATSCTL" pub -s "$URL" --lines x </dev/null
    [ "$status" -eq 2 ]
    one_line "$stderr"
}

@test "pub --count shows a progress bar when stderr is a terminal, and nothing when it is not" {
    run --separate-stderr "$NATSCTL" pub -s "$URL" --count 20000 p x
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [ -z "$output" ]
    run on_tty "$NATSCTL pub -s $URL --count 20000 p x"
    [ "$status" -eq 0 ]
    [[ $output == *"100% 20000/20000"* ]]
}

@test "pub of a single message shows no progress bar on a terminal" {
    run on_tty "$NATSCTL pub -s $URL p x"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
}

@test "pub rejects wildcards and blanks in the subject and the reply subject with exit 2" {
    local args
    for args in "a.* x" "a.> x" "--reply r.* a x" "-H novalue a x" "-H :v a x" "--count 0 a x" \
        "--sleep soon a x" "a b c"; do
        # shellcheck disable=SC2086 # word splitting is the point
        run --separate-stderr "$NATSCTL" pub -s "$URL" $args
        [ "$status" -eq 2 ] || { echo "$args: $status"; return 1; }
        [ -z "$output" ]
        one_line "$stderr"
    done
    run --separate-stderr "$NATSCTL" pub -s "$URL" 'a b' x
    [ "$status" -eq 2 ]
    one_line "$stderr"
}

@test "SIGINT during pub --count --sleep stops it with exit 130" {
    sub_bg s slow --json
    natsctl_bg p pub -s "$URL" --count 100 --sleep 100ms slow x
    local pub=$BG_PID
    wait_for_text "$BATS_TEST_TMPDIR/s.out" '"data":"x"'
    kill -INT "$pub"
    wait_exit "$pub"
    [ "$EXIT" = 130 ]
    local got
    got=$(wc -l <"$BATS_TEST_TMPDIR/s.out")
    ((got >= 1 && got < 100))
}
