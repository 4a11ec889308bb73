#!/usr/bin/env bats
# natsctl server --signal (-sl) VERB[=PID]: nats-server's verbs, messages and exit codes, and what
# the signalled server does (lame duck mode, reload, log reopened, stops). Reloading itself is
# tested in 19-reload.bats.

load helpers

teardown() {
    stop_server
}

# wait_exit: sets RC to the exit code of the server start_server started, once it is gone.
wait_exit() {
    RC=0
    wait "$SERVER_PID" || RC=$?
    SERVER_PID=
}

# ldm_conf: a configuration with the shortest lame duck mode nats-server allows.
ldm_conf() {
    printf 'lame_duck_duration: "30s"\nlame_duck_grace_period: "1s"\n' >"$BATS_TEST_TMPDIR/ldm.conf"
    echo "$BATS_TEST_TMPDIR/ldm.conf"
}

@test "--signal quit=PID stops the server with exit 0 and prints nothing" {
    start_server
    run --separate-stderr "$NATSCTL" server --signal "quit=$SERVER_PID"
    [ "$status" -eq 0 ]
    [ -z "$output" ] && [ -z "$stderr" ]
    wait_exit
    [ "$RC" -eq 0 ]
    grep -qF 'Trapped "interrupt" signal' "$SERVER_LOG"
}

@test "-sl term=PIDFILE reads the pid file; -sl term with -P does too" {
    local dir=$BATS_TEST_TMPDIR
    start_server -P "$dir/s.pid"
    run "$NATSCTL" server -sl "term=$dir/s.pid"
    [ "$status" -eq 0 ]
    wait_exit
    [ "$RC" -eq 0 ]
    start_server -P "$dir/s.pid"
    run "$NATSCTL" server -sl term -P "$dir/s.pid"
    [ "$status" -eq 0 ]
    wait_exit
    [ "$RC" -eq 0 ]
}

@test "--signal stop=PID kills the server (SIGKILL: no cleanup)" {
    start_server
    run "$NATSCTL" server --signal "stop=$SERVER_PID"
    [ "$status" -eq 0 ]
    wait_exit
    [ "$RC" -eq 137 ]
}

@test "--signal reload=PID without -c: refused as nats-server refuses it, the configuration stays" {
    start_server --max_payload 100
    run "$NATSCTL" server --signal "reload=$SERVER_PID"
    [ "$status" -eq 0 ]
    wait_for_text "$SERVER_LOG" "Failed to reload server configuration"
    run session 'CONNECT {"verbose":false}\r\nPING\r\n'
    [[ $output == *'"max_payload":100'*PONG* ]]
    run cat "$SERVER_LOG"
    [[ $output == *"[ERR] Failed to reload server configuration: can only reload config when a file is provided using -c or --config"* ]]
}

@test "--signal reopen=PID reopens the -l file" {
    local dir=$BATS_TEST_TMPDIR
    start_server -l "$dir/s.log"
    mv "$dir/s.log" "$dir/s.log.1"
    run "$NATSCTL" server --signal "reopen=$SERVER_PID"
    [ "$status" -eq 0 ]
    wait_for_text "$dir/s.log" "File log re-opened"
}

@test "errors have nats-server's words and exit 1" {
    local cases=(
        "foo=12345|unknown signal \"foo\""
        "quit=abc|invalid pid: abc"
        "quit=|invalid pid:"
        "quit=0|invalid pid: 0"
        "quit=-1|invalid pid: -1"
        "ldm=1=2=3|invalid signal parameters: [2 3]"
        "quit=2147483647|no such process"
    )
    local c
    for c in "${cases[@]}"; do
        run --separate-stderr "$NATSCTL" server --signal "${c%%|*}"
        [ "$status" -eq 1 ] || { echo "${c%%|*} -> $status"; return 1; }
        [ "$stderr" = "natsctl server: ${c#*|}" ] || { echo "${c%%|*} -> $stderr"; return 1; }
        [ -z "$output" ]
    done
    # a pid file that names no process
    printf '2147483647\n' >"$BATS_TEST_TMPDIR/gone.pid"
    run --separate-stderr "$NATSCTL" server --signal "ldm=$BATS_TEST_TMPDIR/gone.pid"
    [ "$status" -eq 1 ]
    [ "$stderr" = "natsctl server: no such process" ]
}

@test "without a PID the one natsctl server running is found (in a PID namespace of its own)" {
    unshare --pid --fork --mount-proc true 2>/dev/null || skip "no PID namespaces here"
    run unshare --pid --fork --mount-proc bash -c '
        n=$1 dir=$2
        "$n" server --signal quit; echo "none: $?"
        mkdir -p "$dir/1" "$dir/2"
        "$n" server -p -1 --ports_file_dir "$dir/1" >/dev/null 2>&1 3>&- &
        p1=$!
        "$n" server -p -1 --ports_file_dir "$dir/2" >/dev/null 2>&1 3>&- &
        p2=$!
        for i in $(seq 100); do [ "$(ls "$dir"/1 "$dir"/2 | grep -c ports)" = 2 ] && break; sleep 0.05; done
        "$n" server --signal reopen 2>&1 | tr "\n" " "; echo "several: ${PIPESTATUS[0]}"
        kill "$p1"
        wait "$p1"
        "$n" server --signal quit; echo "one: $?"
        wait "$p2"; echo "exit: $?"
    ' _ "$NATSCTL" "$BATS_TEST_TMPDIR"
    [[ ${lines[0]} == "natsctl server: no natsctl server processes running" ]]
    [[ ${lines[1]} == "none: 1" ]]
    [[ ${lines[2]} =~ ^"natsctl server: multiple natsctl server processes running: "[0-9]+" "[0-9]+" several: 1"$ ]]
    [[ ${lines[3]} == "one: 0" ]]
    [[ ${lines[4]} == "exit: 0" ]]
}

@test "--signal ldm=PID without clients: lame duck mode ends at once with exit 0" {
    start_server
    run "$NATSCTL" server --signal "ldm=$SERVER_PID"
    [ "$status" -eq 0 ]
    wait_exit
    [ "$RC" -eq 0 ]
    run cat "$SERVER_LOG"
    [[ $output == *"[INF] Entering lame duck mode, stop accepting new clients"*"[INF] Initiating Shutdown..."*"[INF] Server Exiting.."* ]]
}

@test "SIGUSR2: ldm INFO, no new clients, SIGTERM ignored, the client closed after the grace period, exit 0" {
    start_server -c "$(ldm_conf)"
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'CONNECT {"protocol":1,"verbose":false}\r\nPING\r\n' >&5
    local line
    while read -t 5 -r line <&5; do [[ $line == PONG* ]] && break; done
    [[ $line == PONG* ]]
    kill -USR2 "$SERVER_PID"
    read -t 5 -r line <&5
    [[ $line == 'INFO {'*'"ldm":true} '* ]]
    [[ $line != *connect_urls* ]]
    run bash -c "exec 6<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null
    [ "$status" -ne 0 ]
    kill -TERM "$SERVER_PID"
    local start=$SECONDS
    run timeout 5 cat <&5
    exec 5<&-
    [ "$status" -eq 0 ]
    wait_exit
    [ "$RC" -eq 0 ]
    [ $((SECONDS - start)) -le 3 ]
    run cat "$SERVER_LOG"
    [[ $output == *"Entering lame duck mode"*"Closing existing clients"*"Server Exiting.."* ]]
    [[ $output != *'Trapped "terminated" signal'* ]]
}

@test "SIGINT cuts lame duck mode short" {
    start_server -c "$(ldm_conf)"
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'CONNECT {"protocol":1,"verbose":false}\r\nPING\r\n' >&5
    local line
    while read -t 5 -r line <&5; do [[ $line == PONG* ]] && break; done
    kill -USR2 "$SERVER_PID"
    read -t 5 -r line <&5
    [[ $line == *'"ldm":true'* ]]
    kill -INT "$SERVER_PID"
    wait_exit
    [ "$RC" -eq 0 ]
    exec 5<&-
    run cat "$SERVER_LOG"
    [[ $output != *"Closing existing clients"* ]]
}
