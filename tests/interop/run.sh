#!/usr/bin/env bash
# Runs the libnats interop suite against natsctl or the reference nats-server.
# Usage: run.sh natsctl|nats-server INTEROP_BINARY
#
# One server per configuration (default, token auth, user/password auth, small max_pending), each
# on 127.0.0.1 with a random port announced through its ports file. Each test group runs in its
# own process under a time limit, so a hang or crash is reported without hiding the other groups.
# Every server started here is stopped by PID, and waited for, on any exit.
set -uo pipefail

server=${1:-}
bin=${2:-}
if [[ $server != natsctl && $server != nats-server ]] || [[ ! -x $bin ]]; then
    echo "usage: run.sh natsctl|nats-server INTEROP_BINARY" >&2
    exit 2
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NATSCTL=${NATSCTL:-$repo/build/natsctl}
NATS_SERVER_BIN=${NATS_SERVER_BIN:-$repo/.deps/nats-server/usr/sbin/nats-server}
limit=$((20 * ${NATSCTL_TEST_TIMEOUT_MULT:-1}))

work=$(mktemp -d "${TMPDIR:-/tmp}/interop.XXXXXX")
pids=()

cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME [server flags...]: starts one server and sets URL to its client URL once its
# ports file appears (at most 10 s). Fails, showing the server log, if it never does.
start_server() {
    local name=$1 dir=$work/$1
    shift
    mkdir -p "$dir"
    local cmd=("$NATS_SERVER_BIN")
    [[ $server == natsctl ]] && cmd=("$NATSCTL" server)
    "${cmd[@]}" -a 127.0.0.1 -p -1 --ports_file_dir "$dir" "$@" >"$dir/log" 2>&1 &
    local pid=$!
    pids+=("$pid")
    local i ports=
    URL=
    for ((i = 0; i < 200; i++)); do
        ports=$(cat "$dir"/*_"$pid".ports 2>/dev/null)
        URL=$(grep -o 'nats://[^"]*' <<<"$ports" | head -n 1)
        [[ -n $URL ]] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "interop: $server ($name) did not start; its log:" >&2
    cat "$dir/log" >&2
    return 1
}

passed=0
failed=0

# run_group GROUP URL: runs one group and adds its cmocka counts to the totals. A group that dies
# or times out before printing its summary counts as one failure.
run_group() {
    local group=$1 url=$2 out=$work/$1.out rc
    timeout --kill-after=5 "$limit" "$bin" "$group" "$url" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    local ok bad
    ok=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) test.*/\1/p' "$out" | tail -n 1)
    bad=$(sed -nE 's/^\[  FAILED  \] ([0-9]+) test.*/\1/p' "$out" | tail -n 1)
    passed=$((passed + ${ok:-0}))
    failed=$((failed + ${bad:-0}))
    if ((rc != 0)) && [[ -z $bad ]]; then
        echo "interop: group $group exited with status $rc" >&2
        failed=$((failed + 1))
    fi
}

export INTEROP_TOKEN=interop-s3cret-token INTEROP_USER=alice INTEROP_PASS=interop-pa55

# max_payload may not exceed max_pending, so the slow-consumer server needs a smaller one.
printf 'max_pending: 262144\nwrite_deadline: "2s"\nmax_payload: 65536\n' >"$work/slow.conf"

if ! start_server default; then
    echo "interop($server): 0 passed, 1 failed"
    exit 1
fi
default_url=$URL
for group in pubsub request limits; do
    run_group "$group" "$default_url"
done
if start_server slow -c "$work/slow.conf"; then
    run_group slow "$URL"
else
    failed=$((failed + 1))
fi
if start_server token --auth "$INTEROP_TOKEN"; then
    run_group token "$URL"
else
    failed=$((failed + 1))
fi
if start_server userpass --user "$INTEROP_USER" --pass "$INTEROP_PASS"; then
    run_group userpass "$URL"
else
    failed=$((failed + 1))
fi

echo "interop($server): $passed passed, $failed failed"
((failed == 0))
