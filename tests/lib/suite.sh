# shellcheck shell=bash
# Shared by the suite runners (tests/interop/run.sh, tests/client/run.sh): argument checks, servers
# on random loopback ports stopped by PID on any exit, and cmocka groups run one process each under
# a time limit with their counts summed. Source it, then call suite_init.

# suite_init NAME LIMIT_SECONDS "$@": NAME labels messages; the arguments are the runner's own
# (natsctl|nats-server BINARY). Sets server, bin, server_cmd and work.
suite_init() {
    suite=$1
    limit=$(($2 * ${NATSCTL_TEST_TIMEOUT_MULT:-1}))
    server=${3:-}
    bin=${4:-}
    if [[ $server != natsctl && $server != nats-server ]] || [[ ! -x $bin ]]; then
        echo "usage: run.sh natsctl|nats-server BINARY" >&2
        exit 2
    fi
    local repo
    repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    NATSCTL=${NATSCTL:-$repo/build/natsctl}
    NATS_SERVER_BIN=${NATS_SERVER_BIN:-$repo/.deps/nats-server/usr/sbin/nats-server}
    server_cmd=("$NATS_SERVER_BIN")
    [[ $server == natsctl ]] && server_cmd=("$NATSCTL" server)
    work=$(mktemp -d "${TMPDIR:-/tmp}/$suite.XXXXXX")
    pids=()
    passed=0
    failed=0
    trap suite_cleanup EXIT
    trap 'exit 130' INT TERM
}

suite_cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null
    done
    rm -rf "$work"
}

# start_server NAME [server flags...]: sets URL once the server's ports file names its client URL
# (nats://, or tls:// for a TLS server; at most 10 s). Fails, showing the server's log, if it never
# does; the caller counts that.
start_server() {
    local name=$1 dir=$work/$1 i pid
    shift
    mkdir -p "$dir"
    "${server_cmd[@]}" -a 127.0.0.1 -p -1 --ports_file_dir "$dir" "$@" >"$dir/log" 2>&1 &
    pid=$!
    pids+=("$pid")
    URL=
    for ((i = 0; i < 200; i++)); do
        URL=$(grep -oE '(nats|tls)://[^"]*' "$dir"/*_"$pid".ports 2>/dev/null | head -n 1)
        [[ -n $URL ]] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "$suite: $server ($name) did not start; its log:" >&2
    cat "$dir/log" >&2
    failed=$((failed + 1))
    return 1
}

# run_group GROUP URL: adds the group's cmocka counts to the totals; a group that dies or times out
# before its summary counts as one failure.
run_group() {
    local group=$1 url=$2 out=$work/$1.out rc ok bad
    timeout --kill-after=5 "$limit" "$bin" "$group" "$url" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    ok=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) test.*/\1/p' "$out" | tail -n 1)
    bad=$(sed -nE 's/^\[  FAILED  \] ([0-9]+) test.*/\1/p' "$out" | tail -n 1)
    passed=$((passed + ${ok:-0}))
    failed=$((failed + ${bad:-0}))
    if ((rc != 0)) && [[ -z $bad ]]; then
        echo "$suite: group $group exited with status $rc" >&2
        failed=$((failed + 1))
    fi
}

# suite_finish: prints the closing "N passed, M failed" line and sets the exit status.
suite_finish() {
    echo "$suite($server): $passed passed, $failed failed"
    ((failed == 0))
}
