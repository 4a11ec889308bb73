# Server start and stop for the benchmark scripts (sourced by bench.sh and client-compare.sh).
# The caller provides $work (with a ports/ directory) and a log() function.

# launch_server LOGFILE CMD...: starts CMD on 127.0.0.1 with a random port and sets srv_pid and
# srv_port from its ports file; fails if none appears within 10 s.
launch_server() {
    local logfile=$1 file i
    shift
    "$@" -a 127.0.0.1 -p -1 --ports_file_dir "$work/ports" >>"$logfile" 2>&1 </dev/null &
    srv_pid=$!
    for ((i = 0; i < 200; i++)); do
        file=$(compgen -G "$work/ports/*_$srv_pid.ports" || true)
        if [[ -n $file ]]; then
            srv_port=$(sed -n 's/.*\(nats\|tls\):\/\/127\.0\.0\.1:\([0-9]*\).*/\2/p' "$file")
            [[ -n $srv_port ]] && return 0
        fi
        kill -0 "$srv_pid" 2>/dev/null || break
        sleep 0.05
    done
    log "$1 did not start; its log: $logfile"
    tail -5 "$logfile" >&2
    return 1
}

# Stops the server by PID: SIGTERM, then SIGKILL after 5 s. Returns 1 if it had already died.
stop_server() {
    local dead=0 i
    kill -0 "$srv_pid" 2>/dev/null || dead=1
    kill -TERM "$srv_pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$srv_pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$srv_pid" 2>/dev/null || true
    wait "$srv_pid" 2>/dev/null || true
    srv_pid=
    return $dead
}

# User plus system CPU ticks the server has used so far (0 once it has gone).
server_ticks() {
    awk '{ print $14 + $15 }' "/proc/$srv_pid/stat" 2>/dev/null || echo 0
}
