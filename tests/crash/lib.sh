# shellcheck shell=bash
# Shared by crash.sh and fulldisk.sh: the server under test (CRASH_SERVER=natsctl|nats-server) on
# a store directory, started on a free loopback port and stopped by its PID. Source it, then call
# crash_init NAME NATSCTL "$@"-style arguments.

# crash_init NAME NATSCTL: sets suite, server_cmd and work (removed on exit with the server).
crash_init() {
    suite=$1
    server=${CRASH_SERVER:-natsctl}
    local repo
    repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    case $server in
    natsctl) server_cmd=("$2" server) ;;
    nats-server) server_cmd=("${NATS_SERVER_BIN:-$repo/.deps/nats-server/usr/sbin/nats-server}") ;;
    *)
        echo "$suite: CRASH_SERVER must be natsctl or nats-server" >&2
        exit 2
        ;;
    esac
    work=$(mktemp -d "${TMPDIR:-/tmp}/$suite.XXXXXX")
    pid=
    # shellcheck disable=SC2034 # read by the scripts that source this
    started=$SECONDS
}

# Ends the server: SIGTERM, then SIGKILL if it is still there after 5 s (nats-server 2.9.10 does
# not end on SIGTERM once its store's disk has filled).
crash_stop_server() {
    local i
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    # Only if still running: once it has exited, its PID may already be another process's.
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null; fi
    wait "$pid" 2>/dev/null
    pid=
}

crash_kill_server() {
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null
    pid=
}

die() {
    echo "$suite($server): $*; server log tail:" >&2
    tail -n 20 "$work/server.log" >&2
    exit 1
}

# crash_start_server STORE: sets URL from the server's ports file (at most 10 s). Returns 3 when
# the server says it has no JetStream, so the caller can skip rather than fail.
crash_start_server() {
    local i
    mkdir -p "$work/ports"
    "${server_cmd[@]}" -js -sd "$1" -a 127.0.0.1 -p -1 --ports_file_dir "$work/ports" \
        >>"$work/server.log" 2>&1 &
    pid=$!
    for ((i = 0; i < 200; i++)); do
        URL=$(grep -o 'nats://[^"]*' "$work/ports/"*_"$pid".ports 2>/dev/null | head -n 1)
        [[ -n $URL ]] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    wait "$pid" 2>/dev/null
    pid=
    grep -q 'JetStream is not available' "$work/server.log" && return 3
    return 1
}

# crash_first_start STORE: the first start; exits 0 with a note when there is no JetStream.
crash_first_start() {
    crash_start_server "$1"
    case $? in
    0) ;;
    3)
        echo "$suite($server): skipped: this $server has no JetStream yet"
        exit 0
        ;;
    *) die "the server did not start" ;;
    esac
}
