# Shared helpers for the bats suites. NATSCTL is the binary under test (make bats sets it).
# WIRE_SERVER=nats-server makes start_server launch the Debian reference server instead, so the
# wire-level expectations can be proven against the real thing.

bats_require_minimum_version 1.5.0

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
NATSCTL=${NATSCTL:-$REPO/build/natsctl}
NATS_SERVER_BIN=${NATS_SERVER_BIN:-$REPO/.deps/nats-server/usr/sbin/nats-server}
WIRE_SERVER=${WIRE_SERVER:-natsctl}

# start_server [server flags...]: starts a broker on a free port in the background, waits for its
# ports file, and sets SERVER_PID, PORT and SERVER_LOG. File descriptor 3 is closed for the child
# so bats does not wait for it.
start_server() {
    local dir
    dir=$(mktemp -d "$BATS_TEST_TMPDIR/srv.XXXXXX")
    SERVER_LOG=$dir/server.log
    if [[ $WIRE_SERVER == nats-server ]]; then
        "$NATS_SERVER_BIN" -a 127.0.0.1 -p -1 --ports_file_dir "$dir" "$@" >"$SERVER_LOG" 2>&1 3>&- &
    else
        "$NATSCTL" server -p -1 --ports_file_dir "$dir" "$@" >"$SERVER_LOG" 2>&1 3>&- &
    fi
    SERVER_PID=$!
    local i ports=
    for ((i = 0; i < 100; i++)); do
        ports=$(cat "$dir"/*_"$SERVER_PID".ports 2>/dev/null) && [[ -n $ports ]] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    [[ -n $ports ]] || { cat "$SERVER_LOG" >&2; return 1; }
    PORT=$(sed -E 's/.*:([0-9]+)".*/\1/' <<<"${ports%%]*}")
}

# stop_server: SIGTERM, then the server must exit 0. Under ASan a leak or a memory error found at
# exit makes the exit code non-zero, so every test that starts a server also checks for those.
stop_server() {
    [[ -n ${SERVER_PID:-} ]] || return 0
    local pid=$SERVER_PID rc=0
    SERVER_PID=
    # nats-server exits 1 on SIGTERM but 0 on SIGINT; natsctl exits 0 on both.
    local sig=TERM
    [[ $WIRE_SERVER == nats-server ]] && sig=INT
    kill -"$sig" "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || rc=$?
    if [[ $rc != 0 ]]; then
        echo "server exited with $rc:" >&2
        tail -20 "$SERVER_LOG" >&2
        return 1
    fi
}

# session BYTES: sends printf-style BYTES, half-closes, and prints everything the server sent until
# it closed the connection (at most 5 s).
session() {
    printf "$1" | timeout 5 nc -N 127.0.0.1 "$PORT"
}

# Like session, but strips the INFO line and CRs so expectations read as plain lines.
session_body() {
    session "$1" | tr -d '\r' | sed 1d
}

# The INFO JSON a fresh connection gets.
info_json() {
    printf '' | timeout 5 nc -N 127.0.0.1 "$PORT" | head -1 | tr -d '\r' | sed -E 's/^INFO //; s/ $//'
}
