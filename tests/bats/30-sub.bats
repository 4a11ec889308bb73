#!/usr/bin/env bats
# natsctl sub against a live server: raw bodies when piped, banners on a terminal, --json parsed
# back with jq, --queue, --count, --wait, -t, --subjects-only, `| head -1`, and Ctrl-C.
# WIRE_SERVER=nats-server runs the same against nats-server.

load helpers

setup() {
    client_setup
    client_serve
}

teardown() {
    client_teardown
}

pub() {
    "$NATSCTL" pub -s "$URL" "$@"
}

@test "sub prints raw bodies, one per line, on stdout when piped, and its status line on stderr" {
    sub_bg s 'greet.*' --count 3
    pub greet.a hello
    pub greet.b 'two words'
    printf 'with newline\n' | pub greet.c
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [ "$(bg_out s)" = $'hello\ntwo words\nwith newline' ]
    [ "$(bg_err s)" = "Subscribing on greet.*" ]
}

@test "sub on several subjects names them all once subscribed and receives from each" {
    sub_bg s a b.c 'd.>' --count 3 --subjects-only
    pub a x
    pub b.c x
    pub d.e.f x
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [ "$(bg_err s)" = "Subscribing on a b.c d.>" ]
    [ "$(bg_out s | paste -sd,)" = "a,b.c,d.e.f" ]
}

@test "sub on a terminal prints a banner with the reply subject, the headers, a blank line and the body" {
    script -qefc "$NATSCTL sub -s $URL pretty --count 2 2>$BATS_TEST_TMPDIR/err" /dev/null \
        </dev/null >"$BATS_TEST_TMPDIR/tty.out" 3>&- &
    local pid=$!
    BG_PIDS+=("$pid")
    wait_for_text "$BATS_TEST_TMPDIR/err" "Subscribing on pretty"
    pub -H 'Trace: abc' -H 'Trace: 2' --reply r.x pretty body
    pub pretty plain
    wait_exit "$pid"
    [ "$EXIT" = 0 ]
    run tr -d '\r' <"$BATS_TEST_TMPDIR/tty.out"
    [ "$output" = '[#1] Received on "pretty" with reply "r.x"
Trace: abc
Trace: 2

body

[#2] Received on "pretty"
plain' ]
    # the status line went to stderr, not to the terminal's stdout
    [[ $output != *Subscribing* ]]
}

@test "sub -t adds the arrival time to the banner" {
    script -qefc "$NATSCTL sub -s $URL stamp -t --count 1" /dev/null </dev/null \
        >"$BATS_TEST_TMPDIR/tty.out" 3>&- &
    local pid=$!
    BG_PIDS+=("$pid")
    wait_for_text "$BATS_TEST_TMPDIR/tty.out" "Subscribing on stamp"
    pub stamp body
    wait_exit "$pid"
    [ "$EXIT" = 0 ]
    run grep -F '[#1]' "$BATS_TEST_TMPDIR/tty.out"
    [[ $output =~ ^\[#1\]\ Received\ on\ \"stamp\"\ @\ [A-Z][a-z]{2}\ [\ 0-9][0-9]\ [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} ]]
}

@test "sub -d shows the time since the previous message and --headers-only leaves bodies out" {
    sub_bg s delta -d --headers-only --pretty --count 2
    pub -H 'K: v' delta first
    pub -H 'K: w' delta second
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    run bg_out s
    [[ ${lines[0]} == '[#1] Received on "delta" @ +0s' ]]
    [ "${lines[1]}" = "K: v" ]
    [[ ${lines[2]} =~ ^\[#2\]\ Received\ on\ \"delta\"\ @\ \+[0-9.]+(ns|µs|ms|s)$ ]]
    [ "${lines[3]}" = "K: w" ]
    [[ $output != *first* && $output != *second* ]]
}

@test "sub --pretty forces banners when piped and --raw forces bodies on a terminal" {
    sub_bg s forced --count 1 --pretty
    pub forced body
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [ "$(bg_out s)" = $'[#1] Received on "forced"\nbody' ]
    script -qefc "$NATSCTL sub -s $URL forced --count 1 --raw" /dev/null </dev/null \
        >"$BATS_TEST_TMPDIR/tty.out" 3>&- &
    local pid=$!
    BG_PIDS+=("$pid")
    wait_for_text "$BATS_TEST_TMPDIR/tty.out" "Subscribing on forced"
    pub forced rawbody
    wait_exit "$pid"
    [ "$EXIT" = 0 ]
    [ "$(tr -d '\r' <"$BATS_TEST_TMPDIR/tty.out")" = $'Subscribing on forced\nrawbody' ]
}

@test "sub --json prints one object per message with subject, reply, headers and data" {
    sub_bg s 'j.*' --count 2 --json
    pub -H 'A: 1' -H 'A: 2' -H 'B:x' --reply r.1 j.text 'héllo "quoted"'
    pub j.plain ''
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    run jq -c '[.subject, .reply, .headers, .data, .size]' "$BATS_TEST_TMPDIR/s.out"
    [ "${lines[0]}" = '["j.text","r.1",{"A":["1","2"],"B":["x"]},"héllo \"quoted\"",15]' ]
    [ "${lines[1]}" = '["j.plain",null,null,"",0]' ]
    run jq -r .ts "$BATS_TEST_TMPDIR/s.out"
    [[ ${lines[0]} =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$ ]]
}

@test "sub --json gives data_b64 instead of data when the body is not UTF-8" {
    sub_bg s bin --count 1 --json
    printf '\xff\x00\x01' | pub bin
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [ "$(jq -r 'has("data")' "$BATS_TEST_TMPDIR/s.out")" = false ]
    [ "$(jq -r .data_b64 "$BATS_TEST_TMPDIR/s.out" | base64 -d | od -An -tx1 | tr -d ' ')" = ff0001 ]
}

@test "sub --subjects-only prints only the subjects" {
    sub_bg s 'so.>' --count 2 --subjects-only
    pub -H 'A:1' so.one body
    pub so.two.three body
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [ "$(bg_out s)" = $'so.one\nso.two.three' ]
}

@test "sub --queue members share the messages while a plain subscriber gets them all" {
    sub_bg a 'q.>' --queue workers
    local qa=$BG_PID
    sub_bg b 'q.>' --queue workers
    local qb=$BG_PID
    sub_bg all 'q.>' --count 20
    [ "$(bg_err a)" = "Subscribing on q.> in queue group workers" ]
    pub --count 20 'q.{{Count}}' x
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    local i
    for ((i = 0; i < 100; i++)); do
        (($(cat "$BATS_TEST_TMPDIR/a.out" "$BATS_TEST_TMPDIR/b.out" | wc -l) >= 20)) && break
        sleep 0.05
    done
    kill -INT "$qa" "$qb"
    wait_exit "$qa"
    [ "$EXIT" = 0 ]
    wait_exit "$qb"
    [ "$EXIT" = 0 ]
    [ "$(cat "$BATS_TEST_TMPDIR/a.out" "$BATS_TEST_TMPDIR/b.out" | wc -l)" -eq 20 ]
    [ "$(bg_out all | wc -l)" -eq 20 ]
    [ -s "$BATS_TEST_TMPDIR/a.out" ] && [ -s "$BATS_TEST_TMPDIR/b.out" ]
}

@test "sub --count N exits 0 after exactly N messages even when more arrive" {
    sub_bg s many --count 2
    pub --count 10 many 'm{{Count}}'
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [ "$(bg_out s)" = $'m1\nm2' ]
}

@test "sub --wait ends quietly with 0 after a silent period when no --count was given" {
    run --separate-stderr timeout 10 "$NATSCTL" sub -s "$URL" quiet --wait 200ms
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ "$stderr" = "Subscribing on quiet" ]
}

@test "sub --wait before --count is reached is exit 4 with one error line" {
    run --separate-stderr timeout 10 "$NATSCTL" sub -s "$URL" quiet --wait 200ms --count 2
    [ "$status" -eq 4 ]
    [ -z "$output" ]
    [ "${#stderr_lines[@]}" -eq 2 ]
    [ "${stderr_lines[0]}" = "Subscribing on quiet" ]
    [[ ${stderr_lines[1]} == *"timed out after 0 of 2 messages"* ]]
}

@test "sub --wait restarts with every message" {
    sub_bg s tick --wait 400ms
    local i
    for i in 1 2 3 4; do
        pub tick "t$i"
        sleep 0.2
    done
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [ "$(bg_out s | paste -sd,)" = t1,t2,t3,t4 ]
}

@test "sub piped into head -1 ends quietly with exit 0 once the reader is gone" {
    mkfifo "$BATS_TEST_TMPDIR/fifo"
    head -1 <"$BATS_TEST_TMPDIR/fifo" >"$BATS_TEST_TMPDIR/h.out" 3>&- &
    BG_PIDS+=($!)
    "$NATSCTL" sub -s "$URL" h >"$BATS_TEST_TMPDIR/fifo" 2>"$BATS_TEST_TMPDIR/h.err" </dev/null 3>&- &
    local sub=$!
    BG_PIDS+=("$sub")
    wait_for_text "$BATS_TEST_TMPDIR/h.err" "Subscribing on"
    local i
    for ((i = 0; i < 50; i++)); do
        kill -0 "$sub" 2>/dev/null || break
        pub h "x$i"
        sleep 0.02
    done
    wait_exit "$sub"
    [ "$EXIT" = 0 ]
    [ "$(cat "$BATS_TEST_TMPDIR/h.out")" = x0 ]
    [ "$(cat "$BATS_TEST_TMPDIR/h.err")" = "Subscribing on h" ]
}

@test "SIGINT and SIGTERM stop a sub without --count with exit 0 and no error" {
    sub_bg a forever
    local a=$BG_PID
    sub_bg b forever
    local b=$BG_PID
    kill -INT "$a"
    kill -TERM "$b"
    wait_exit "$a"
    [ "$EXIT" = 0 ]
    wait_exit "$b"
    [ "$EXIT" = 0 ]
    [ "$(bg_err a)" = "Subscribing on forever" ]
    [ "$(bg_err b)" = "Subscribing on forever" ]
}

@test "SIGINT on a sub still waiting for its --count is exit 130" {
    sub_bg s bounded --count 5
    kill -INT "$BG_PID"
    wait_exit "$BG_PID"
    [ "$EXIT" = 130 ]
}

@test "sub rejects bad subjects, queue groups and values with a one-line exit 2" {
    local args
    for args in "" "a..b" "'a.>.b'" "'a b'" "--queue '' x" "--count 0 x" "--wait never x" \
        "--bogus x"; do
        eval "run --separate-stderr \"\$NATSCTL\" sub -s \"\$URL\" $args"
        [ "$status" -eq 2 ] || { echo "$args: $status"; return 1; }
        [ -z "$output" ]
        one_line "$stderr"
    done
}

@test "sub on a terminal escapes control bytes in subjects, headers and bodies, keeping \\n and \\t" {
    script -qefc "$NATSCTL sub -s $URL 'esc.>' --count 1 2>$BATS_TEST_TMPDIR/err" /dev/null \
        </dev/null >"$BATS_TEST_TMPDIR/tty.out" 3>&- &
    local pid=$!
    BG_PIDS+=("$pid")
    wait_for_text "$BATS_TEST_TMPDIR/err" "Subscribing on esc.>"
    printf 'clear\x1b[2J title\x1b]0;pwned\x07 tab\there\nline2 \xc2\x9b\xff' |
        pub -H "$(printf 'K:v\x1b[31m')" "$(printf 'esc.\x1b[1m')"
    wait_exit "$pid"
    [ "$EXIT" = 0 ]
    run tr -d '\r' <"$BATS_TEST_TMPDIR/tty.out"
    [ "$output" = '[#1] Received on "esc.\x1b[1m"
K: v\x1b[31m

clear\x1b[2J title\x1b]0;pwned\x07 tab	here
line2 \u009b\xff' ]
    # no ESC, BEL or C1 byte reached the terminal
    ! LC_ALL=C grep -q $'[\x1b\x07]' "$BATS_TEST_TMPDIR/tty.out"
}

@test "sub --raw to a pipe passes control bytes through byte for byte" {
    sub_bg s rawesc --count 1 --raw
    printf 'a\x1b[2Jb\x07\xc2\x9b\xff' | pub rawesc
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [ "$(od -An -tx1 "$BATS_TEST_TMPDIR/s.out" | tr -d ' \n')" = 611b5b324a6207c29bff0a ]
}

@test "sub --raw on a terminal escapes control bytes too" {
    script -qefc "$NATSCTL sub -s $URL rawtty --count 1 --raw" /dev/null </dev/null \
        >"$BATS_TEST_TMPDIR/tty.out" 3>&- &
    local pid=$!
    BG_PIDS+=("$pid")
    wait_for_text "$BATS_TEST_TMPDIR/tty.out" "Subscribing on rawtty"
    printf 'x\x1b[2Jy' | pub rawtty
    wait_exit "$pid"
    [ "$EXIT" = 0 ]
    [ "$(tr -d '\r' <"$BATS_TEST_TMPDIR/tty.out")" = $'Subscribing on rawtty\nx\\x1b[2Jy' ]
}

@test "sub --headers-only prints banners and headers without bodies when piped" {
    sub_bg s ho --count 2 --headers-only
    pub -H 'K: v' ho first
    pub ho second
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [ "$(bg_out s)" = $'[#1] Received on "ho"\nK: v\n\n[#2] Received on "ho"' ]
}

@test "sub refuses two output formats at once with a usage error naming both" {
    local args
    for args in "--raw --json" "--raw --pretty" "--json --subjects-only" "--headers-only --raw" \
        "--headers-only --json" "--subjects-only --pretty"; do
        run --separate-stderr "$NATSCTL" sub -s "$URL" $args x
        [ "$status" -eq 2 ] || { echo "$args: $status"; return 1; }
        one_line "$stderr"
        [[ $stderr == *"cannot be combined"* ]]
        [[ $stderr == *"${args%% *}"* && $stderr == *"${args##* }"* ]]
    done
}
