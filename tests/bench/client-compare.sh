#!/usr/bin/env bash
# Is natsctl bench the bottleneck? It and natsload (tests/bench/natsload.c, the same runs through
# the official C client libnats) drive nats-server 2.9.10 in turn, and a markdown section for
# docs/benchmarks.md goes to stdout: client rates side by side, each client's CPU, and the CPU
# the server spent. A client that keeps the server busier per second is the harder driver.
#
# usage: tests/bench/client-compare.sh NATSCTL NATSLOAD
#
# Every run gets a fresh nats-server on 127.0.0.1 with a random port (read back from its ports
# file, as in bench.sh). The two clients alternate run by run and the one that goes first swaps
# every repetition, so drift on this shared machine hits both alike. Progress goes to stderr.
#
# Environment:
#   BENCH_REPS=3    repetitions per scenario and client (medians are reported)
#   BENCH_SCALE=1   multiplies every message count (about 1 s per run at 1 on the 2-core machine)
#
# Exit status: 0 when every run succeeded, 1 when any failed (the section lists them), 2 on usage.
set -euo pipefail

if [[ $# != 2 || ! -x $1 || ! -x $2 ]]; then
    echo "usage: $0 NATSCTL NATSLOAD   (both executable; see the header of this script)" >&2
    exit 2
fi
natsctl=$(realpath "$1")
natsload=$(realpath "$2")
cd "$(dirname "$0")/../.."

ref=$PWD/.deps/nats-server/usr/sbin/nats-server
[[ -x $ref ]] || scripts/deps.sh
reps=${BENCH_REPS:-3}
scale=${BENCH_SCALE:-1}
if [[ ! $reps =~ ^[1-9][0-9]*$ || ! $scale =~ ^[0-9]*\.?[0-9]+$ ]]; then
    echo "$0: BENCH_REPS must be a positive integer and BENCH_SCALE a positive number" >&2
    exit 2
fi

work=$(mktemp -d /tmp/client-compare.XXXXXX)
mkdir -p "$work/ports" "$work/res"
srv_pid=
ticks=$(getconf CLK_TCK)
failures=0

# The server is the only process left running between runs; it is stopped by its PID whatever
# way the script ends. Clients run in the foreground under `timeout`.
cleanup() {
    if [[ -n $srv_pid ]]; then
        kill -TERM "$srv_pid" 2>/dev/null || true
        wait "$srv_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() {
    printf 'client-compare: %s\n' "$*" >&2
}

# shellcheck source=tests/bench/server.sh
source tests/bench/server.sh

start_server() {
    launch_server "$work/server.log" "$ref"
}

record_failure() {
    failures=$((failures + 1))
    printf -- '- %s, %s, repetition %s: %s\n' "$1" "$2" "$3" "$4" >>"$work/failures"
    log "FAILED $1 with $2 (repetition $3): $4"
}

# One run of one client against a fresh server. Appends to res/SCEN.CLIENT a line
#   rate secs client_cpu_pct server_cpu_s server_cpu_pct
# where rate = messages published / secs, and secs is, for both clients alike: pub, first publish
# to the PONG after the last message; pubsub, first publish to the last subscriber's last message.
# Client CPU is user+system of the whole client process (GNU time, which includes everything
# `timeout` waited for) and server CPU the utime+stime delta in /proc/PID/stat around the client
# process; both are divided by secs, so they read as "% of a core while measuring".
run_one() {
    local scen=$1 client=$2 rep=$3 mode=$4 size=$5 subs=$6 n=$7 out secs s0 s1 cpu name
    local -a cmd
    name=${scenarios[$scen]%%|*}
    if [[ $client == natsctl ]]; then
        cmd=("$natsctl" bench "$mode" -s "nats://127.0.0.1:PORT" --msgs "$n" --size "$size"
            --json --no-progress)
        [[ $mode == pubsub ]] && cmd+=(--sub "$subs")
    else
        cmd=("$natsload" "$mode" -p PORT -n "$n" -s "$size" -t 60)
        [[ $mode == pubsub ]] && cmd+=(-S "$subs")
    fi
    start_server || { record_failure "$name" "$client" "$rep" "nats-server did not start"; return; }
    cmd=("${cmd[@]//PORT/$srv_port}")
    s0=$(server_ticks)
    if ! out=$(/usr/bin/time -o "$work/time" -f '%U %S' timeout 90 "${cmd[@]}" 2>"$work/err"); then
        record_failure "$name" "$client" "$rep" \
            "$(basename "${cmd[0]}") exited non-zero: $(tr '\n' ' ' <"$work/err" | cut -c1-300)"
        stop_server || true
        return
    fi
    s1=$(server_ticks)
    if [[ $client == natsctl ]]; then
        # natsctl reports no first-publish-to-last-delivery time; the longer of the publisher's
        # span (start to its last PONG) and the slowest subscriber's span (its first to its last
        # message) falls short of it by at most the first message's latency
        secs=$(jq -r '[.aggregate.pub.secs, (.aggregate.sub.secs // 0)] | max' <<<"$out")
    else
        secs=$(sed -n 's/.* secs=\([0-9.]*\) .*/\1/p' <<<"$out")
    fi
    cpu=$(cat "$work/time")
    if ! stop_server; then
        record_failure "$name" "$client" "$rep" "nats-server died during the run"
        return
    fi
    awk -v n="$n" -v t="$secs" -v cpu="$cpu" -v d=$((s1 - s0)) -v h="$ticks" 'BEGIN {
        split(cpu, c, " ")
        printf "%.0f %.6f %.1f %.2f %.1f\n", n / t, t, 100 * (c[1] + c[2]) / t, d / h, 100 * d / h / t
    }' >>"$work/res/$scen.$client"
    log "$name, $client, repetition $rep: $(tail -1 "$work/res/$scen.$client")"
}

# name | mode | size | subscribers | messages at BENCH_SCALE=1 (about 1 s each here)
scenarios=(
    "publish only 16 B|pub|16|0|7000000"
    "pub to 1 subscriber 128 B|pubsub|128|1|1500000"
    "fan-out to 4 subscribers 128 B|pubsub|128|4|600000"
)

for ((rep = 1; rep <= reps; rep++)); do
    for i in "${!scenarios[@]}"; do
        IFS='|' read -r name mode size subs n <<<"${scenarios[$i]}"
        n=$(awk -v n="$n" -v s="$scale" 'BEGIN { n = int(n * s); print n < 1 ? 1 : n }')
        order=(natsctl natsload)
        ((rep % 2 == 0)) && order=(natsload natsctl)
        for client in "${order[@]}"; do
            run_one "$i" "$client" "$rep" "$mode" "$size" "$subs" "$n"
        done
    done
done

# median of column COL of res/SCEN.CLIENT, or empty when no run succeeded
median() {
    local f=$work/res/$2.$3
    [[ -s $f ]] || return 0
    awk -v c="$1" '{ print $c }' "$f" | sort -g |
        awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# 4012345.6 -> 4,012,346
fmt_rate() {
    [[ -n $1 ]] || { echo "failed"; return; }
    awk -v r="$1" 'BEGIN {
        s = sprintf("%.0f", r); t = ""
        while (length(s) > 3) { t = "," substr(s, length(s) - 2) t; s = substr(s, 1, length(s) - 3) }
        print s t
    }'
}

# A table cell for scenario $i and client $2: column 3 is the client's CPU ("P%"), column 4 the
# server's ("S s (P%)", with the percentage from column 5).
cell() {
    local v
    v=$(median "$1" "$i" "$2")
    [[ -n $v ]] || { echo "-"; return; }
    if [[ $1 == 3 ]]; then
        printf '%.0f%%\n' "$v"
    else
        printf '%.2f s (%.0f%%)\n' "$v" "$(median 5 "$i" "$2")"
    fi
}

libnats_version=$(pkg-config --modversion libnats 2>/dev/null || echo unknown)
server_version=$("$ref" --version | sed 's/.*v//')
cat <<EOF
## natsctl bench versus libnats on nats-server

The benchmark client must not be the bottleneck. To check, \`natsctl bench\` and \`natsload\`
(tests/bench/natsload.c: the same runs written against the official C client, libnats
$libnats_version, with its default options) took turns driving nats-server $server_version on
127.0.0.1, with a fresh server for every run and the first client alternating. Each figure is
the median of $reps runs, each about a second long at BENCH_SCALE=1 (this one: $scale).

Both rates are messages published per second over the same span. Publish only: from the first
publish to the PONG after the last message. With subscribers: from the first publish until the
last subscriber has every message; natsctl bench reports that span as the longer of
\`.aggregate.pub.secs\` (first publish to last PONG) and \`.aggregate.sub.secs\` (slowest
subscriber's first to last message), which can fall short of it by at most one message's
latency. Client CPU is the client process's user+system time (GNU time), server CPU the
nats-server utime+stime delta in /proc/PID/stat around the client process; both are shown as a
percentage of one core over the measured span. Client and server share the machine's
$(nproc) cores, so every core-second the client burns is one the server cannot have: the server's
share is the measure of how hard a client drives it. Both clients fail the run on any lost
message.

| scenario | natsctl bench msgs/s | libnats msgs/s | ratio | natsctl bench client CPU | libnats client CPU | server CPU, natsctl bench | server CPU, libnats |
|---|---:|---:|---:|---:|---:|---:|---:|
EOF
for i in "${!scenarios[@]}"; do
    IFS='|' read -r name _ <<<"${scenarios[$i]}"
    a=$(median 1 "$i" natsctl)
    b=$(median 1 "$i" natsload)
    ratio=n/a
    [[ -n $a && -n $b ]] && ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2fx", a / b }')
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$(fmt_rate "$a")" \
        "$(fmt_rate "$b")" "$ratio" "$(cell 3 natsctl)" "$(cell 3 natsload)" \
        "$(cell 4 natsctl)" "$(cell 4 natsload)"
done
echo
echo "Server CPU is CPU seconds per run (the same message count for both clients) and, in"
echo "brackets, as a percentage of one core over the measured span."
echo
echo "Every run, in messages per second:"
echo
echo "| scenario | natsctl bench | libnats |"
echo "|---|---|---|"
for i in "${!scenarios[@]}"; do
    IFS='|' read -r name _ <<<"${scenarios[$i]}"
    runs() {
        [[ -s $work/res/$i.$1 ]] || { echo "-"; return; }
        while read -r r _; do fmt_rate "$r"; done <"$work/res/$i.$1" | paste -sd' '
    }
    printf '| %s | %s | %s |\n' "$name" "$(runs natsctl)" "$(runs natsload)"
done
if [[ -s $work/failures ]]; then
    echo
    echo "Failed runs (left out of the medians):"
    echo
    cat "$work/failures"
fi
[[ $failures == 0 ]]
