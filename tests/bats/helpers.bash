# Shared helpers for the bats suites. NATSCTL is the binary under test (make bats sets it).
# WIRE_SERVER=nats-server makes start_server launch the Debian reference server instead, so the
# wire-level expectations can be proven against the real thing.

bats_require_minimum_version 1.5.0

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
NATSCTL=${NATSCTL:-$REPO/build/natsctl}
NATS_SERVER_BIN=${NATS_SERVER_BIN:-$REPO/.deps/nats-server/usr/sbin/nats-server}
WIRE_SERVER=${WIRE_SERVER:-natsctl}

# Client commands read natscli's selected context; a user's own must not steer the tests.
export XDG_CONFIG_HOME=${BATS_TEST_TMPDIR:-${BATS_RUN_TMPDIR:-/tmp}}/config

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

# --- client commands (pub, sub, request, reply) ---------------------------------------------------
# The client suites call client_setup from setup() and client_teardown from teardown(). Every
# background command goes through natsctl_bg, so teardown can stop it by PID.

client_setup() {
    BG_PIDS=()
    URL=
    # The caller's own NATS settings and contexts must not reach the commands under test.
    unset NATS_URL NATS_USER NATS_PASSWORD NATS_TOKEN NATS_TIMEOUT NATS_CREDS NATS_NKEY NATS_CONTEXT
    export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/config
}

client_teardown() {
    local pid
    for pid in "${BG_PIDS[@]}"; do
        # Only if still running: once it has exited, its PID may already be another process's.
        if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
        wait "$pid" 2>/dev/null || true
    done
    BG_PIDS=()
    stop_server
}

# client_serve [server flags...]: start_server, then URL=nats://127.0.0.1:PORT.
client_serve() {
    start_server "$@"
    URL=nats://127.0.0.1:$PORT
}

# wait_for_text FILE TEXT: waits up to 10 s for TEXT to appear in FILE.
wait_for_text() {
    local i
    for ((i = 0; i < 200; i++)); do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "timed out waiting for '$2' in $1:" >&2
    cat "$1" >&2
    return 1
}

# natsctl_bg NAME ARGS...: runs `natsctl ARGS` in the background with stdin from /dev/null, stdout in
# $BATS_TEST_TMPDIR/NAME.out and stderr in NAME.err; sets BG_PID.
natsctl_bg() {
    local name=$1
    shift
    "$NATSCTL" "$@" >"$BATS_TEST_TMPDIR/$name.out" 2>"$BATS_TEST_TMPDIR/$name.err" </dev/null 3>&- &
    BG_PID=$!
    BG_PIDS+=("$BG_PID")
}

# sub_bg NAME ARGS...: `natsctl sub -s $URL ARGS` in the background, returning once it has said
# "Subscribing on" (its subscriptions are confirmed by the server).
sub_bg() {
    local name=$1
    shift
    natsctl_bg "$name" sub -s "$URL" "$@"
    wait_for_text "$BATS_TEST_TMPDIR/$name.err" "Subscribing on"
}

# reply_bg NAME ARGS...: `natsctl reply -s $URL ARGS` in the background, once it is "Listening on".
reply_bg() {
    local name=$1
    shift
    natsctl_bg "$name" reply -s "$URL" "$@"
    wait_for_text "$BATS_TEST_TMPDIR/$name.err" "Listening on"
}

# wait_exit PID [SECONDS]: waits (default 10 s) for a background command and sets EXIT to its exit
# status, or to "still-running" after killing one that had not ended. Call it directly, never in
# $(...): only this shell can collect the status of its own children.
wait_exit() {
    local pid=$1 i rc=0
    for ((i = 0; i < ${2:-10} * 20; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        EXIT=still-running
        return 0
    fi
    wait "$pid" || rc=$?
    EXIT=$rc
}

# bg_out NAME / bg_err NAME: what a background command printed so far.
bg_out() { cat "$BATS_TEST_TMPDIR/$1.out"; }
bg_err() { cat "$BATS_TEST_TMPDIR/$1.err"; }

# on_tty CMD: runs the shell command CMD with a terminal as stdin, stdout and stderr (script(1)),
# with CRs removed from what it printed. Stdin of the terminal gets nothing; the terminal closes
# when CMD ends.
on_tty() {
    script -qefc "$1" /dev/null </dev/null | tr -d '\r'
    return "${PIPESTATUS[0]}"
}

# one_line TEXT: TEXT is exactly one non-empty line.
one_line() {
    [[ -n $1 && $1 != *$'\n'* ]] || {
        echo "expected exactly one line, got: <$1>" >&2
        return 1
    }
}

# --- JetStream (stream, kv, pub --jetstream) ------------------------------------------------------
# JS_SERVER=nats-server runs the JetStream suites against the Debian reference server; the default
# is natsctl's own server with the flags it takes for JetStream.
JS_SERVER=${JS_SERVER:-natsctl}

# start_js_server: like client_serve, with JetStream on and its store in a fresh temporary directory.
# It sets WIRE_SERVER to JS_SERVER for the rest of the test, so stop_server stops the right kind.
start_js_server() {
    local store
    store=$(mktemp -d "$BATS_TEST_TMPDIR/js.XXXXXX")
    WIRE_SERVER=$JS_SERVER
    client_serve -js -sd "$store"
}

# The errors and warnings of the server log, without pid, time, client address and cid.
log_lines() {
    grep -E '\[(ERR|WRN)\]' "$SERVER_LOG" |
        sed -E 's/^\[[0-9]+\] [0-9/]+ [0-9:.]+ //; s/ [0-9.]+:[0-9]+ - cid:[0-9]+ - / /'
}

# on_both CONF SCENARIO [FLAGS...]: runs the function SCENARIO, which prints what its clients saw,
# against nats-server and then natsctl, each started with CONF and FLAGS (and, when the test file
# defines on_both_setup, after calling it: a scenario that rewrites CONF puts it back there). Sets
# REF and OUT (each followed by its server's log_lines) and fails, showing the difference, unless
# they are equal.
on_both() {
    local file=$1 fn=$2 side out
    shift 2
    for side in nats-server natsctl; do
        WIRE_SERVER=$side
        if declare -F on_both_setup >/dev/null; then on_both_setup; fi
        start_server -c "$file" "$@"
        out=$("$fn")
        stop_server
        out+=$'\n'$(log_lines)
        if [[ $side == nats-server ]]; then REF=$out; else OUT=$out; fi
    done
    [[ $REF == "$OUT" ]] && return 0
    diff <(printf '%s\n' "$REF") <(printf '%s\n' "$OUT") | sed 's/^/  nats-server < > natsctl: /' >&2
    return 1
}
