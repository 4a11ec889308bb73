#!/usr/bin/env bash
# Runs the client connection's end-to-end groups against natsctl or the reference nats-server.
# Usage: run.sh natsctl|nats-server CLIENT_E2E_BINARY
#
# Servers (default, token auth, user/password auth) listen on 127.0.0.1 at random ports announced
# through their ports files. The reconnect group starts, kills and restarts its own server from
# NATS_TEST_SERVER_CMD. Each group runs in its own process under a time limit, so a hang or crash
# counts as a failure without hiding the other groups. Servers started here are stopped by PID.
set -uo pipefail

server=${1:-}
bin=${2:-}
if [[ $server != natsctl && $server != nats-server ]] || [[ ! -x $bin ]]; then
    echo "usage: run.sh natsctl|nats-server CLIENT_E2E_BINARY" >&2
    exit 2
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NATSCTL=${NATSCTL:-$repo/build/natsctl}
NATS_SERVER_BIN=${NATS_SERVER_BIN:-$repo/.deps/nats-server/usr/sbin/nats-server}
limit=$((60 * ${NATSCTL_TEST_TIMEOUT_MULT:-1}))

server_cmd=("$NATS_SERVER_BIN")
[[ $server == natsctl ]] && server_cmd=("$NATSCTL" server)

work=$(mktemp -d "${TMPDIR:-/tmp}/client-e2e.XXXXXX")
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

# start_server NAME [server flags...]: sets URL once the server's ports file names its client URL
# (at most 10 s); fails with the server's log otherwise.
start_server() {
    local name=$1 dir=$work/$1
    shift
    mkdir -p "$dir"
    "${server_cmd[@]}" -a 127.0.0.1 -p -1 --ports_file_dir "$dir" "$@" >"$dir/log" 2>&1 &
    local pid=$!
    pids+=("$pid")
    local i
    URL=
    for ((i = 0; i < 200; i++)); do
        URL=$(grep -o 'nats://[^"]*' "$dir"/*_"$pid".ports 2>/dev/null | head -n 1)
        [[ -n $URL ]] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "client-e2e: $server ($name) did not start; its log:" >&2
    cat "$dir/log" >&2
    return 1
}

passed=0
failed=0

# run_group GROUP URL: adds the group's cmocka counts to the totals; a group that dies or times
# out before its summary counts as one failure.
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
        echo "client-e2e: group $group exited with status $rc" >&2
        failed=$((failed + 1))
    fi
}

export NATS_TEST_TOKEN=e2e-s3cret-token NATS_TEST_USER=carol NATS_TEST_PASS=e2e-pa55
export NATS_TEST_SERVER_CMD="${server_cmd[*]}"

if start_server default; then
    run_group basic "$URL"
    run_group servers "$URL"
else
    failed=$((failed + 1))
fi
if start_server token --auth "$NATS_TEST_TOKEN"; then
    run_group token "$URL"
else
    failed=$((failed + 1))
fi
if start_server userpass --user "$NATS_TEST_USER" --pass "$NATS_TEST_PASS"; then
    run_group userpass "$URL"
else
    failed=$((failed + 1))
fi
run_group reconnect none

echo "client-e2e($server): $passed passed, $failed failed"
((failed == 0))
