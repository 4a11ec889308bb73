# Shared helpers of the cluster suites: servers of one cluster on 127.0.0.1, natsctl or the Debian
# nats-server, with client and cluster ports of their own choosing (-1, read back from the ports
# file) and a monitoring port picked here. Everything started is recorded in files under
# $BATS_FILE_TMPDIR (setup_file and the tests run in different processes) and stopped by PID.
# Every wait is bounded.

bats_require_minimum_version 1.5.0

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
NATSCTL=${NATSCTL:-$REPO/build/natsctl}
NATS_SERVER_BIN=${NATS_SERVER_BIN:-$REPO/.deps/nats-server/usr/sbin/nats-server}
CLUSTER=${CLUSTER:-ct}

# The caller's own NATS settings and contexts must not reach the commands under test.
unset NATS_URL NATS_USER NATS_PASSWORD NATS_TOKEN NATS_TIMEOUT NATS_CREDS NATS_NKEY NATS_CONTEXT
export XDG_CONFIG_HOME=$BATS_FILE_TMPDIR/config

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# node_dir NAME: where a server keeps its log and what the suite knows about it.
node_dir() { echo "$BATS_FILE_TMPDIR/node-$1"; }
url() { cat "$(node_dir "$1")/url"; }
route_url() { cat "$(node_dir "$1")/route"; }
mon() { cat "$(node_dir "$1")/mon"; }
node_log() { echo "$(node_dir "$1")/log"; }

# start_node KIND NAME [server flags...]: KIND is natsctl or nats-server. Waits for the ports file.
start_node() {
    local kind=$1 name=$2 dir m pid
    shift 2
    dir=$(node_dir "$name")
    mkdir -p "$dir"
    m=$(free_port)
    local common=(-p -1 -m "$m" -n "$name" --cluster nats://127.0.0.1:-1 --ports_file_dir "$dir")
    [[ -n $CLUSTER ]] && common+=(--cluster_name "$CLUSTER")
    if [[ $kind == nats-server ]]; then
        "$NATS_SERVER_BIN" -a 127.0.0.1 "${common[@]}" "$@" >"$dir/log" 2>&1 3>&- &
    else
        "$NATSCTL" server "${common[@]}" "$@" >"$dir/log" 2>&1 3>&- &
    fi
    pid=$!
    disown "$pid" # killing it on purpose is not news for the test's output
    echo "$pid" >"$dir/pid"
    echo "$kind" >"$dir/kind"
    echo "$m" >"$dir/mon"
    local i ports=
    for ((i = 0; i < 100; i++)); do
        ports=$(cat "$dir"/*_"$pid".ports 2>/dev/null) && [[ $ports == *cluster* ]] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    [[ $ports == *cluster* ]] || { cat "$dir/log" >&2; return 1; }
    sed -E 's/.*"nats":\["([^"]+)".*/\1/' <<<"$ports" >"$dir/url"
    sed -E 's/.*"cluster":\["([^"]+)".*/\1/' <<<"$ports" >"$dir/route"
    wait_http "$m"
}

wait_http() {
    local i
    for ((i = 0; i < 100; i++)); do
        curl -sf "http://127.0.0.1:$1/varz" >/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# stop_node NAME [SIGNAL]: signals the server and waits up to 5 s for it to be gone. Under ASan
# (make asan-test) a memory error or leak it reported at exit fails the caller.
stop_node() {
    local dir pid sig=${2:-} i
    dir=$(node_dir "$1")
    [[ -f $dir/pid ]] || return 0
    pid=$(cat "$dir/pid")
    rm -f "$dir/pid"
    if [[ -z $sig ]]; then
        sig=TERM
        [[ $(cat "$dir/kind") == nats-server ]] && sig=INT
    fi
    kill -"$sig" "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        echo "server $1 did not stop within 5 s" >&2
        return 1
    fi
    if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$dir/log"; then
        grep -A 20 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$dir/log" >&2
        return 1
    fi
}

stop_all_nodes() {
    local d
    for d in "$BATS_FILE_TMPDIR"/node-*; do
        [[ -d $d ]] && stop_node "${d##*/node-}"
    done
    return 0
}

# bg NAME natsctl-args...: a natsctl command in the background, output in NAME.out and NAME.err.
bg() {
    local name=$1
    shift
    "$NATSCTL" "$@" >"$BATS_FILE_TMPDIR/$name.out" 2>"$BATS_FILE_TMPDIR/$name.err" </dev/null 3>&- &
    echo "$!" >"$BATS_FILE_TMPDIR/$name.pid"
}

# stop_bg NAME...: stops background commands (SIGTERM: a sub drains and exits).
stop_bg() {
    local name pid i
    for name in "$@"; do
        [[ -f $BATS_FILE_TMPDIR/$name.pid ]] || continue
        pid=$(cat "$BATS_FILE_TMPDIR/$name.pid")
        rm -f "$BATS_FILE_TMPDIR/$name.pid"
        kill "$pid" 2>/dev/null || continue
        for ((i = 0; i < 60; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        # Only one still running: an exited command's PID may already be another process's.
        if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    done
}

stop_all_bg() {
    local f
    for f in "$BATS_FILE_TMPDIR"/*.pid; do
        [[ -e $f ]] || continue
        f=${f##*/}
        stop_bg "${f%.pid}"
    done
}

out() { cat "$BATS_FILE_TMPDIR/$1.out"; }
nlines() { wc -l <"$BATS_FILE_TMPDIR/$1.out"; }

# routez NAME [QUERY]: the node's /routez JSON.
routez() { curl -sf "http://127.0.0.1:$(mon "$1")/routez${2:+?$2}"; }

# num_routes NAME
num_routes() {
    routez "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["num_routes"])'
}

# route_subs NAME SUBJECT: how many of NAME's routes announced interest in SUBJECT.
route_subs() {
    routez "$1" subs=1 | python3 -c '
import json, sys
subject = sys.argv[1]
routes = json.load(sys.stdin)["routes"]
print(sum(1 for r in routes if subject in r.get("subscriptions_list", [])))' "$2"
}

# until_true SECONDS COMMAND...: retries COMMAND every 50 ms until it succeeds or time is up.
until_true() {
    local n=$(($1 * 20)) i
    shift
    for ((i = 0; i < n; i++)); do
        "$@" && return 0
        sleep 0.05
    done
    echo "timed out: $*" >&2
    return 1
}

has_routes() { [[ $(num_routes "$1") == "$2" ]]; }
has_route_subs() { [[ $(route_subs "$1" "$2") == "$3" ]]; }
has_lines() { [[ $(nlines "$1") -ge $2 ]]; }

# has_total_lines N NAME...: the NAMEs' outputs have at least N lines together.
has_total_lines() {
    local n=$1 total=0 name
    shift
    for name in "$@"; do total=$((total + $(nlines "$name"))); done
    ((total >= n))
}

# has_route_entries NAME SUBJECT N: NAME's routes list SUBJECT at least N times (a peer's plain
# and queue interest in one subject are listed apart).
has_route_entries() { [[ $(routez "$1" subs=1 | grep -c "\"$2\"") -ge $3 ]]; }

# wait_mesh N NAME...: every NAME has N-1 routes.
wait_mesh() {
    local n=$1 name
    shift
    for name in "$@"; do
        until_true 10 has_routes "$name" $((n - 1)) || return 1
    done
}

# local_sub NAME SUBJECT: a client of NAME (a natsctl server) subscribes to SUBJECT.
local_sub() {
    curl -sf "http://127.0.0.1:$(mon "$1")/subsz?subs=1" | grep -qF "\"subject\": \"$2\""
}

# interest_at NAME SUBJECT: a client of NAME or a peer of NAME subscribes to SUBJECT.
interest_at() {
    [[ $(route_subs "$1" "$2") -gt 0 ]] || local_sub "$1" "$2"
}

# wait_interest NAME SUBJECT N: NAME knows that N peers are interested in SUBJECT.
wait_interest() { until_true 10 has_route_subs "$1" "$2" "$3"; }

# wait_lines NAME N: NAME's output has at least N lines (10 s at most).
wait_lines() { until_true 10 has_lines "$1" "$2"; }

# pub_many URL SUBJECT N [PREFIX]: N messages PREFIX1..PREFIXN (default m1..mN) in one connection.
pub_many() {
    "$NATSCTL" pub -s "$1" "$2" "${4:-m}{{Count}}" --count "$3" >/dev/null
}

# exactly_once NAME... : the messages m1..mN the NAMEs received together, each exactly once.
# Prints what is wrong and fails otherwise.
exactly_once() {
    local n=$1 name all
    shift
    all=$(for name in "$@"; do out "$name"; done | sort)
    local want
    want=$(for ((i = 1; i <= n; i++)); do echo "m$i"; done | sort)
    [[ $all == "$want" ]] && return 0
    echo "want m1..m$n once each, got:" >&2
    sort <<<"$all" | uniq -c | awk '$1 != 1' | head >&2
    echo "($(wc -l <<<"$all") lines)" >&2
    return 1
}
