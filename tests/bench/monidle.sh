#!/usr/bin/env bash
# Monitoring port under siege: pub/sub throughput with and without 1,000 idle HTTP connections on
# the monitoring port (tests/bench/httpidle: each sends half a request and never the rest, and
# comes back when the server drops it), for natsctl and nats-server. A markdown section for
# docs/benchmarks.md on stdout (bench.sh includes it); progress on stderr.
#
# usage: tests/bench/monidle.sh NATSCTL LOADGEN HTTPIDLE
#
# Each run gets a fresh server; the quiet and the besieged runs of one server follow each other and
# the server going first swaps every repetition. The scenario is sub16 of bench.sh (one publisher,
# one subscriber, 16 B). Environment: BENCH_REPS=3, BENCH_SCALE=1. Exit status 0, or 1 when a run
# failed (the section lists it).
set -euo pipefail

if [[ $# != 3 || ! -x $1 || ! -x $2 || ! -x $3 ]]; then
    echo "usage: $0 NATSCTL LOADGEN HTTPIDLE" >&2
    exit 2
fi
natsctl=$(realpath "$1")
loadgen=$(realpath "$2")
httpidle=$(realpath "$3")
cd "$(dirname "$0")/../.."
ref=$PWD/.deps/nats-server/usr/sbin/nats-server
reps=${BENCH_REPS:-3}
scale=${BENCH_SCALE:-1}
msgs=$(awk -v s="$scale" 'BEGIN { v = int(4000000 * s); print v < 1 ? 1 : v }')
idle_conns=1000

work=$(mktemp -d /tmp/bench-monidle.XXXXXX)
mkdir -p "$work/ports" "$work/res"
srv_pid=
idle_pid=
failures=0

cleanup() {
    [[ -n $idle_pid ]] && kill "$idle_pid" 2>/dev/null
    [[ -n $srv_pid ]] && stop_server
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() {
    printf 'bench-monidle: %s\n' "$*" >&2
}

# shellcheck source=tests/bench/server.sh
source tests/bench/server.sh

# A loopback port nothing listens on.
free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
}

fail() {
    failures=$((failures + 1))
    printf -- '- %s\n' "$*" >>"$work/failures"
    log "FAILED: $*"
}

# Starts httpidle against MPORT and waits (at most 30 s) until its connections are open.
besiege() {
    coproc IDLE { exec "$httpidle" -p "$1" -n "$idle_conns" 2>"$work/idle.err"; }
    # shellcheck disable=SC2153 # IDLE_PID is set by coproc
    idle_pid=$IDLE_PID
    local line=
    read -r -t 30 line <&"${IDLE[0]}" || true
    [[ $line == ready ]]
}

lift_siege() {
    kill "$idle_pid" 2>/dev/null || true
    wait "$idle_pid" 2>/dev/null || true
    idle_pid=
}

# run SIDE MODE REP: one loadgen run on a fresh server, MODE quiet or idle.
run() {
    local side=$1 mode=$2 rep=$3 mport line cmd=("$ref")
    [[ $side == natsctl ]] && cmd=("$natsctl" server)
    mport=$(free_port)
    launch_server "$work/$side.log" "${cmd[@]}" -m "$mport" || {
        fail "$side $mode $rep: server did not start"
        return
    }
    if [[ $mode == idle ]] && ! besiege "$mport"; then
        fail "$side $mode $rep: httpidle: $(tr '\n' ' ' <"$work/idle.err")"
        lift_siege
        stop_server || true
        return
    fi
    if line=$(timeout 150 "$loadgen" pubsub -S 1 -s 16 -n "$msgs" -p "$srv_port" -t 120 \
        2>"$work/lg.err"); then
        echo "$line" >>"$work/res/$side.$mode"
    else
        fail "$side $mode $rep: loadgen: $(tr '\n' ' ' <"$work/lg.err")"
    fi
    [[ $mode == idle ]] && lift_siege
    stop_server || fail "$side $mode $rep: the server died during the run"
}

# median|min|max of msgs_per_s over the runs of SIDE in MODE.
stats() {
    local f=$work/res/$1.$2
    [[ -s $f ]] || { echo "n/a|n/a|n/a"; return; }
    grep -o 'msgs_per_s=[0-9.]*' "$f" | cut -d= -f2 | sort -g | awk '{ v[NR] = $1 } END {
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.0f|%.0f|%.0f\n", m, v[1], v[NR] }'
}

for ((rep = 1; rep <= reps; rep++)); do
    sides="natsctl nats-server"
    ((rep % 2)) || sides="nats-server natsctl"
    for side in $sides; do
        log "$side, repetition $rep: quiet, then with $idle_conns idle HTTP connections"
        run "$side" quiet "$rep"
        run "$side" idle "$rep"
    done
done

echo "## Monitoring port under 1,000 idle HTTP connections"
echo
echo "Pub to 1 subscriber, 16 B (\`loadgen pubsub -S 1 -s 16 -n $msgs\`), on a fresh server with"
echo "\`-m PORT\`, without and then with $idle_conns connections to the monitoring port that each"
echo "sent half a request (\`tests/bench/httpidle\`; reconnecting when dropped). Median of $reps runs"
echo "(slowest to fastest in brackets). Within noise when the ranges overlap."
echo
echo "| server | msgs/s quiet | msgs/s with $idle_conns idle HTTP conns | ratio | ranges overlap |"
echo "|---|---|---|---|---|"
for side in natsctl nats-server; do
    IFS='|' read -r qm qlo qhi <<<"$(stats "$side" quiet)"
    IFS='|' read -r im ilo ihi <<<"$(stats "$side" idle)"
    ratio=n/a overlap=n/a
    if [[ $qm != n/a && $im != n/a ]]; then
        ratio=$(awk -v a="$im" -v b="$qm" 'BEGIN { printf "%.2f", a / b }')
        overlap=$(awk -v a="$qlo" -v b="$qhi" -v c="$ilo" -v d="$ihi" \
            'BEGIN { print (b >= c && d >= a) ? "yes" : "no" }')
    fi
    echo "| $side | $qm ($qlo-$qhi) | $im ($ilo-$ihi) | $ratio | $overlap |"
done
if [[ -s $work/failures ]]; then
    echo
    echo "Failed runs:"
    echo
    cat "$work/failures"
fi
echo
((failures == 0))
