#!/usr/bin/env bats
# natsctl shell: scripts (-c and stdin) with exact stdout and exit codes, and the interactive shell
# driven in a real terminal through tmux (send-keys, capture-pane): background output above a
# half-typed line (also one that wraps), background output while a foreground command runs,
# completion, history, Ctrl-C and Ctrl-D, :subjects and :stats. And the shape of its code.

load helpers

setup() {
    client_setup
    client_serve
    export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
    unset NATSCTL_HISTFILE
    TMUX_SOCK=natsctl-test-$$-$BATS_TEST_NUMBER
}

teardown() {
    tmux -L "$TMUX_SOCK" kill-server 2>/dev/null || true
    if [[ -n ${MON_PID:-} ]]; then
        kill "$MON_PID" 2>/dev/null || true
        wait "$MON_PID" 2>/dev/null || true
    fi
    client_teardown
}

shell() {
    "$NATSCTL" shell -s "$URL" "$@"
}

# tmux_shell [TERM] [shell args...]: the shell in a 150x40 terminal; EXIT=<code> shows once it ends.
tmux_shell() {
    local term=${1:-xterm-256color}
    shift || true
    tmux -L "$TMUX_SOCK" new-session -d -s t -x 150 -y 40 \
        "env TERM=$term XDG_STATE_HOME=$XDG_STATE_HOME $NATSCTL shell -s $URL $*; echo EXIT=\$?; sleep 60"
    wait_screen "$URL>"
}

keys() {
    tmux -L "$TMUX_SOCK" send-keys -t t "$@"
}

screen() {
    tmux -L "$TMUX_SOCK" capture-pane -p -t t
}

# wait_screen TEXT: waits up to 10 s for TEXT on the screen.
wait_screen() {
    local i
    for ((i = 0; i < 200; i++)); do
        screen | grep -qF -- "$1" && return 0
        sleep 0.05
    done
    echo "timed out waiting for '$1' on the screen:" >&2
    screen >&2
    return 1
}

# The line the cursor is on (capture-pane drops trailing blanks).
cursor_line() {
    local y
    y=$(tmux -L "$TMUX_SOCK" display-message -p -t t '#{cursor_y}')
    screen | sed -n "$((y + 1))p"
}

# wait_prompt: waits up to 10 s for an empty prompt on the cursor's line.
wait_prompt() {
    local i
    for ((i = 0; i < 200; i++)); do
        [[ $(cursor_line) == "$URL>" ]] && return 0
        sleep 0.05
    done
    echo "timed out waiting for the prompt:" >&2
    screen >&2
    return 1
}

@test "the shell's code is one concern per file, every file is built, no function is long" {
    cd "$REPO"
    # The subcommand keeps only its entry point; the rest lives in cmd/cli_shell_*.c.
    [ "$(wc -l <cmd/cmd_shell.c)" -le 200 ]
    local f built
    built=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u SANITIZE -u BUILD \
        make -s -n -B STATIC=0 build/natsctl)
    for f in cmd/cli_shell*.c cmd/cli_host.c cmd/cli_line.c; do
        [ "$(wc -l <"$f")" -le 400 ]
        grep -qF -- "-c $f" <<<"$built"
    done
    # Functions short enough to see whole: from the name at column 0 to the closing brace.
    awk '/^[a-z_][a-z0-9_]*\(/ { start = FNR } /^}/ && start { if (FNR - start > 40) bad = 1; start = 0 }
        END { exit bad }' cmd/cmd_shell.c cmd/cli_shell*.c cmd/cli_host.c cmd/cli_line.c
}

@test "shell -c runs commands in order and prints only the data on stdout" {
    run --separate-stderr shell -c 'sub demo.>; pub demo.a hi; pub demo.b "two words"; pub demo.c '\''a;b'\'''
    [ "$status" = 0 ]
    [ "$output" = $'hi\ntwo words\na;b' ]
}

@test "shell -c repeats a command after a number" {
    run --separate-stderr shell -c 'sub r; 3 pub r again'
    [ "$status" = 0 ]
    [ "$output" = $'again\nagain\nagain' ]
}

@test "a script on stdin stops at the first failure with its exit code" {
    run --separate-stderr shell <<'EOF2'
# comments and blank lines are skipped

sub s.*
pub s.one 1
pub 'bad subject' x
pub s.two 2
EOF2
    [ "$status" = 2 ]
    [ "$output" = "1" ]
    [[ $stderr == *"invalid subject"* ]]
}

@test "a script with an unknown command or an open quote fails with 2" {
    run --separate-stderr shell -c 'nosuch'
    [ "$status" = 2 ]
    [[ $stderr == *"'nosuch' is not a command"* ]]
    run --separate-stderr shell -c "pub x 'open"
    [ "$status" = 2 ]
    [[ $stderr == *"unterminated"* ]]
}

@test "shell exits 3 when the server cannot be reached" {
    run --separate-stderr "$NATSCTL" shell -s nats://127.0.0.1:1 -c 'pub x y'
    [ "$status" = 3 ]
    [ -z "$output" ]
}

@test "shell --embedded needs no server" {
    run --separate-stderr "$NATSCTL" shell --embedded -c 'sub e; pub e inside'
    [ "$status" = 0 ]
    [ "$output" = "inside" ]
}

@test ":subjects counts what was published, subject by subject" {
    run --separate-stderr shell -c ':sniff; pub a.b 1; pub a.b 22; pub a.c 333; pub d x; :subjects; :subjects a.*'
    [ "$status" = 0 ]
    [[ $(grep -E '^a ' <<<"$output" | head -1 | awk '{print $2}') = 3 ]]
    [[ $(grep -E '^  b ' <<<"$output" | head -1 | awk '{print $2, $4}') = "2 2" ]]
    [[ $(grep -E '^  c ' <<<"$output" | head -1 | awk '{print $2, $4}') = "1 3" ]]
    [[ $(grep -E '^d ' <<<"$output" | awk '{print $2}') = 1 ]]
    # The filtered tree (the second one) leaves d out.
    [ "$(grep -c '^SUBJECT' <<<"$output")" = 2 ]
    [ "$(grep -c '^d ' <<<"$output")" = 1 ]
}

@test ":stats prints nats-server's figures from its monitoring port" {
    [[ -x $NATS_SERVER_BIN ]] || skip "no nats-server in .deps"
    local port=$((20000 + RANDOM % 20000)) mport=$((40000 + RANDOM % 20000))
    "$NATS_SERVER_BIN" -a 127.0.0.1 -p "$port" -m "$mport" >"$BATS_TEST_TMPDIR/ns.log" 2>&1 3>&- &
    MON_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q 'Server is ready' "$BATS_TEST_TMPDIR/ns.log" && break
        sleep 0.05
    done
    run --separate-stderr "$NATSCTL" shell -s "nats://127.0.0.1:$port" --monitor "http://127.0.0.1:$mport" \
        -c 'pub x y; :stats'
    [ "$status" = 0 ]
    for f in connections subscriptions in_msgs out_msgs in_bytes out_bytes slow_consumers; do
        grep -qE "^$f +[0-9]+$" <<<"$output"
    done
    [ "$(awk '/^in_msgs/ {print $2}' <<<"$output")" -ge 1 ]
}

@test ":stats against natsctl's own monitoring port" {
    stop_server
    client_serve -m -1
    local mport
    mport=$(jq -r '.monitoring[0]' "$(dirname "$SERVER_LOG")"/*.ports)
    run --separate-stderr shell --monitor "$mport/" -c ':stats'
    [ "$status" = 0 ]
    grep -qE '^connections +[0-9]+$' <<<"$output"
}

@test ":stats fails in bounded time when no monitoring port answers" {
    run --separate-stderr timeout 10 "$NATSCTL" shell -s "$URL" --monitor http://127.0.0.1:1 -c ':stats'
    [ "$status" = 3 ]
    [[ $stderr == *":stats"* ]]
}

@test "a background sub prints a message from another process while a half-typed line survives" {
    tmux_shell
    keys 'sub live.>' Enter
    wait_screen "[1] sub live.>"
    keys 'pub half typed'
    wait_screen "> pub half typed"
    "$NATSCTL" pub -s "$URL" live.one from-outside
    wait_screen "from-outside"
    # The half-typed line is redrawn below the message, with the cursor after it.
    [[ $(cursor_line) == *"> pub half typed" ]]
    keys ' more' Enter
    wait_screen "> pub half typed more"
}

@test "tab completes a command, a flag and a subject token seen earlier" {
    tmux_shell
    keys 'sub orders.>' Enter
    wait_screen "[1] sub orders.>"
    "$NATSCTL" pub -s "$URL" orders.paid x
    wait_screen '"orders.paid"'
    keys 'reques' Tab
    wait_screen "> request"
    keys C-u
    keys 'sub --subj' Tab
    wait_screen "> sub --subjects-only"
    keys C-u
    keys 'pub ord' Tab
    wait_screen "> pub orders."
    keys 'p' Tab
    wait_screen "> pub orders.paid"
}

@test "tab completes stream names from the server, refreshed after a stream command" {
    stop_server
    client_serve -js -sd "$BATS_TEST_TMPDIR/store"
    "$NATSCTL" stream add ORDERS --subjects 'orders.>' --defaults -s "$URL" >/dev/null
    tmux_shell
    keys 'stream info OR' Tab
    wait_screen "> stream info ORDERS"
    keys C-u
    keys 'stream add INVOICES --subjects inv.> --defaults' Enter
    wait_screen "INVOICES"
    keys 'consumer ls IN' Tab
    wait_screen "> consumer ls INVOICES"
    keys C-u
    keys 'sub --stream OR' Tab
    wait_screen "> sub --stream ORDERS"
}

@test "a firehose is counted exactly, shown throttled, and leaves memory bounded" {
    tmux_shell
    keys 'sub fire.>' Enter
    wait_screen "[1] sub fire.>"
    "$NATSCTL" bench pub -s "$URL" --msgs 300000 --size 16 fire.x >/dev/null 2>&1
    # The shell may still be reading the burst when the publisher is done: ask until it has all.
    local i
    for ((i = 0; i < 40; i++)); do
        keys ':subs' Enter
        screen | grep -qF " 300000" && break
        sleep 0.25
    done
    wait_screen " 300000"
    wait_screen "messages not shown"
    local pid rss
    pid=$(pgrep -n -f "$NATSCTL shell -s $URL")
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
    echo "shell VmRSS ${rss} kB"
    # ASan keeps freed memory in quarantine and maps its shadow: its RSS says nothing about ours.
    [[ -n ${ASAN_OPTIONS:-} ]] && return 0
    # kB; a shell that queued what it did not show would hold about 10 MB more per 100k lines
    [ "$rss" -lt 16384 ]
}

@test "history is written with mode 0600 and reloaded, without the line that carried a password" {
    tmux_shell
    keys 'pub hist.a first' Enter
    keys 'pub --password hunter2 hist.b x' Enter
    keys 'pub hist.c third' Enter
    wait_screen "> pub hist.c third"
    keys C-d
    wait_screen "EXIT=0"
    local file=$XDG_STATE_HOME/natsctl/history
    [ "$(stat -c %a "$file")" = 600 ]
    [ "$(stat -c %a "$(dirname "$file")")" = 700 ]
    [ "$(cat "$file")" = $'pub hist.a first\npub hist.c third' ]
    tmux -L "$TMUX_SOCK" kill-server
    tmux_shell
    keys Up
    wait_screen "> pub hist.c third"
    keys Up
    wait_screen "> pub hist.a first"
}

@test "Ctrl-C clears the line and stops a foreground command; Ctrl-D exits" {
    tmux_shell
    keys 'pub some half line'
    wait_screen "> pub some half line"
    keys C-c
    wait_screen "pub some half line^C"
    [[ $(cursor_line) == "$URL>" ]]
    keys 'pub slow x --count 100000 --sleep 100ms' Enter
    wait_screen "100000"
    keys C-c
    wait_screen "^C"
    local i
    for ((i = 0; i < 100; i++)); do
        [[ $(cursor_line) == "$URL>" ]] && break
        sleep 0.05
    done
    [[ $(cursor_line) == "$URL>" ]]
    ! screen | grep -q EXIT=
    keys C-d
    wait_screen "EXIT=0"
}

@test "the shell works on a terminal the terminfo database does not know" {
    tmux_shell unknown-term
    keys 'sub t' Enter
    wait_screen "[1] sub t"
    keys 'pub half'
    "$NATSCTL" pub -s "$URL" t on-unknown-term
    wait_screen "on-unknown-term"
    [[ $(cursor_line) == *"> pub half" ]]
    keys C-u C-d
    wait_screen "EXIT=0"
}

@test "background subs keep printing while a request waits, and Ctrl-C stops the request" {
    tmux_shell
    keys 'sub svc' Enter
    wait_screen "[1] sub svc"
    keys 'request svc asking --timeout 30s' Enter
    # The shell's own sub on svc sees the request while the request still waits for its answer.
    wait_screen '"svc"'
    "$NATSCTL" pub -s "$URL" svc from-outside
    wait_screen "from-outside"
    keys C-c
    wait_prompt
    ! screen | grep -qE 'EXIT=|[(]exit'
}

@test "Ctrl-C stops pub reading its body from the terminal, and nothing is published" {
    tmux_shell
    keys 'sub body.x' Enter
    wait_screen "[1] sub body.x"
    keys 'pub body.x' Enter
    wait_screen "reading body from terminal"
    keys 'never sent'
    keys C-c
    wait_prompt
    keys ':subs' Enter
    wait_screen "MSGS"
    [ "$(screen | awk '$1 == 1 && $3 == "body.x" {print $5}')" = 0 ]
    # Ctrl-D still ends the body, which is then published.
    keys 'pub body.x' Enter
    wait_screen "reading body from terminal"
    keys 'typed body' Enter C-d
    wait_screen '"body.x"'
    wait_prompt
    ! screen | grep -qE 'EXIT=|[(]exit'
}

@test "Ctrl-C stops a bench and a foreground sub; background subs print meanwhile" {
    tmux_shell
    keys 'sub bench.x' Enter
    wait_screen "[1] sub bench.x"
    keys 'bench pub bench.x --duration 60s --throughput 20 --size 16 --no-progress' Enter
    # The bench's messages reach the background sub while the bench still runs.
    wait_screen '"bench.x"'
    keys C-c
    wait_prompt
    # A sub that needs a connection of its own (--wait) runs in the foreground.
    keys 'sub fg.x --wait 60s' Enter
    wait_screen "Subscribing on fg.x"
    "$NATSCTL" pub -s "$URL" fg.x to-foreground
    wait_screen "to-foreground"
    keys C-c
    wait_prompt
    ! screen | grep -qE 'EXIT=|[(]exit'
}

@test "a half-typed line wrapped over several rows is redrawn whole when a message prints" {
    tmux -L "$TMUX_SOCK" new-session -d -s t -x 40 -y 30 \
        "env TERM=xterm-256color XDG_STATE_HOME=$XDG_STATE_HOME $NATSCTL shell -s $URL; echo EXIT=\$?; sleep 60"
    wait_screen "$URL>"
    keys 'sub wrap.x' Enter
    wait_screen "[1] sub wrap.x"
    local digits typed i last
    for ((i = 0; i < 9; i++)); do digits+=0123456789; done
    # With the prompt, four rows of 40 columns.
    typed="pub wrap.y $digits"
    keys "$typed"
    for ((i = 0; i < 200; i++)); do
        [[ $(screen | tr -d '\n') == *"$typed"* ]] && break
        sleep 0.05
    done
    "$NATSCTL" pub -s "$URL" wrap.x first-message
    wait_screen "first-message"
    # No row of the line as it was drawn is left above the message...
    [ "$(screen | grep -A1 -F '[1] sub wrap.x' | tail -1)" = '[#1] Received on "wrap.x"' ]
    # ...and below it the line is drawn again, whole, with the cursor at its end.
    [ "$(screen | sed '1,/first-message/d' | tr -d '\n')" = "$URL> $typed" ]
    last=$(cursor_line)
    [ -n "$last" ]
    [[ "$URL> $typed" == *"$last" ]]
    # With the cursor on the first row, the rows below it go too.
    keys C-a
    for ((i = 0; i < 200; i++)); do
        [[ "$URL> $typed" == "$(cursor_line)"* ]] && break
        sleep 0.05
    done
    "$NATSCTL" pub -s "$URL" wrap.x second-message
    wait_screen "second-message"
    # (a message in pretty form ends with an empty line)
    [ "$(screen | grep -A2 -F 'first-message' | tail -1)" = '[#2] Received on "wrap.x"' ]
    [ "$(screen | sed '1,/second-message/d' | tr -d '\n')" = "$URL> $typed" ]
    [[ "$URL> $typed" == "$(cursor_line)"* ]]
    keys C-e C-u C-d
    wait_screen "EXIT=0"
}
