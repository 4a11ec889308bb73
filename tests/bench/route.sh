#!/usr/bin/env bash
# Routes: natsctl servers clustered with each other against nats-server 2.9.10 clustered with
# itself, with the same clients. A markdown section for docs/benchmarks.md on stdout (bench.sh
# includes it); progress on stderr.
#
# usage: tests/bench/route.sh NATSCTL LOADGEN
#
# - Route throughput: one publisher on server A, one subscriber on server B (16 B and 1 KiB).
# - Queue groups over three servers: a member on each of A, B and C, the publisher on A; and a
#   member on each of B and C only, so that every message crosses a route.
# - Interest propagation: a client holds 100,000 subscriptions on A, then B starts with a route to
#   A; the time from B's "Route connection created" log line until B's /routez shows all 100,000.
#
# Every run starts fresh servers on 127.0.0.1 (client, cluster and monitoring ports -1: free ones),
# waits for the full mesh, and stops them by PID. The two implementations alternate run by run
# and the one going first swaps every repetition. Server CPU is user+system of every server of
# the run (from /proc/PID/stat) across the loadgen run, given per million messages published.
# Environment: BENCH_REPS=3, BENCH_SCALE=1. Exit status 0, or 1 when a run failed (the section
# lists it), 2 on usage.
set -euo pipefail

if [[ $# != 2 || ! -x $1 || ! -x $2 ]]; then
    echo "usage: $0 NATSCTL LOADGEN" >&2
    exit 2
fi
natsctl=$(realpath "$1")
loadgen=$(realpath "$2")
cd "$(dirname "$0")/../.."
ref=$PWD/.deps/nats-server/usr/sbin/nats-server
[[ -x $ref ]] || scripts/deps.sh >&2
reps=${BENCH_REPS:-3}
scale=${BENCH_SCALE:-1}
ticks=$(getconf CLK_TCK)
nsubs=100000

work=$(mktemp -d /tmp/bench-route.XXXXXX)
mkdir -p "$work/ports" "$work/res"
srv_pid=
pids=()
holder_pid=
failures=0

cleanup() {
    local pid
    for pid in $holder_pid "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in $holder_pid "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() {
    printf 'bench-route: %s\n' "$*" >&2
}

# shellcheck source=tests/bench/server.sh
source tests/bench/server.sh

count() {
    awk -v n="$1" -v s="$scale" 'BEGIN { v = int(n * s); print v < 1 ? 1 : v }'
}

fail() {
    failures=$((failures + 1))
    printf -- '- %s\n' "$*" >>"$work/failures"
    log "FAILED: $*"
}

# Per server of the current run, by index: PID, client port, route URL, monitoring port, log.
cports=()
routes=()
mports=()
logs=()

# start_node SIDE NAME [ROUTE_URL]: one more server of the run's cluster.
start_node() {
    local side=$1 name=$2 seed=${3:-} file i cmd=("$ref")
    [[ $side == natsctl ]] && cmd=("$natsctl" server)
    cmd+=(-n "$name" -m -1 --cluster nats://127.0.0.1:-1 --cluster_name bench)
    [[ -n $seed ]] && cmd+=(--routes "$seed")
    : >"$work/$side-$name.log" # log_time reads this run's lines only
    launch_server "$work/$side-$name.log" "${cmd[@]}" || return 1
    pids+=("$srv_pid")
    logs+=("$work/$side-$name.log")
    for ((i = 0; i < 100; i++)); do
        file=$(compgen -G "$work/ports/*_$srv_pid.ports" || true)
        [[ -n $file ]] && grep -q cluster "$file" && break
        sleep 0.05
    done
    # launch_server's port may be the cluster's: the ports file lists all three.
    cports+=("$(sed -E 's/.*"nats":\["nats:\/\/[^:]+:([0-9]+)".*/\1/' "$file")")
    mports+=("$(sed -E 's/.*"monitoring":\["http:\/\/[^:]+:([0-9]+)".*/\1/' "$file")")
    routes+=("$(sed -E 's/.*"cluster":\["([^"]+)".*/\1/' "$file")")
    [[ ${routes[-1]} == nats://* && ${cports[-1]} =~ ^[0-9]+$ && ${mports[-1]} =~ ^[0-9]+$ ]]
}

stop_nodes() {
    local dead=0
    for srv_pid in "${pids[@]}"; do
        stop_server || dead=1
    done
    pids=() cports=() routes=() mports=() logs=()
    return $dead
}

# JSON value of KEY in /routez of server I (the first route's, for per-route keys).
routez_num() {
    curl -sf "http://127.0.0.1:${mports[$1]}/routez" |
        grep -o "\"$2\": *[0-9]*" | head -1 | grep -o '[0-9]*$' || echo 0
}

# Waits (10 s at most) until each of the N servers has N-1 routes.
wait_mesh() {
    local n=${#pids[@]} i j
    for ((i = 0; i < n; i++)); do
        for ((j = 0; j < 200; j++)); do
            [[ $(routez_num "$i" num_routes) == $((n - 1)) ]] && break
            sleep 0.05
        done
        ((j < 200)) || return 1
    done
}

# Routes per server and the last log line of each, for a failure report.
cluster_state() {
    local i
    for ((i = 0; i < ${#pids[@]}; i++)); do
        printf '%s routes, log: %s; ' "$(routez_num "$i" num_routes)" "$(tail -1 "${logs[$i]}")"
    done
}

# cluster SIDE N: N fresh servers A, B, C..., every one routed to A.
cluster() {
    local side=$1 n=$2 i names=(A B C)
    start_node "$side" A || return 1
    for ((i = 1; i < n; i++)); do
        start_node "$side" "${names[$i]}" "${routes[0]}" || return 1
    done
    wait_mesh
}

all_ticks() {
    local pid sum=0
    for pid in "${pids[@]}"; do
        sum=$((sum + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo "$sum"
}

# throughput_run SCEN SIDE REP NSERVERS SUBSERVERS LOADGEN-ARGS...: the publisher on A, the
# subscribers on the servers listed by index in SUBSERVERS ("1" or "0,1,2").
throughput_run() {
    local scen=$1 side=$2 rep=$3 n=$4 subs=$5 i ports=() list line t0 t1
    shift 5
    if ! cluster "$side" "$n"; then
        fail "$scen, $side, repetition $rep: the cluster did not form ($(cluster_state))"
        stop_nodes || true
        return
    fi
    for i in ${subs//,/ }; do ports+=("${cports[$i]}"); done
    list=$(IFS=, && echo "${ports[*]}")
    t0=$(all_ticks)
    if line=$(timeout 150 "$loadgen" pubsub "$@" -p "${cports[0]}" --sub-ports "$list" -t 120 \
        2>"$work/lg.err"); then
        t1=$(all_ticks)
        echo "$line srv_cpu_s=$(awk -v d=$((t1 - t0)) -v h="$ticks" 'BEGIN { print d / h }')" \
            >>"$work/res/$scen.$side"
    else
        fail "$scen, $side, repetition $rep: loadgen: $(tr '\n' ' ' <"$work/lg.err")"
    fi
    stop_nodes || fail "$scen, $side, repetition $rep: a server died during the run"
}

# Seconds since the epoch of the first LINE in a server log ("[pid] 2026/12/07 03:05:19.233353").
log_time() {
    local stamp
    stamp=$(grep -m1 -F "$2" "$1" | awk '{ print $2, $3 }')
    [[ -n $stamp ]] && date -d "$stamp" +%s.%N
}

# Interest propagation: $nsubs subscriptions held on A, then B joins.
interest_run() {
    local side=$1 rep=$2 i t_done t_route
    if ! start_node "$side" A; then
        fail "interest, $side, repetition $rep: server A did not start"
        stop_nodes || true
        return
    fi
    "$loadgen" subs -p "${cports[0]}" -S "$nsubs" --hold 120 >"$work/holder.out" 2>"$work/lg.err" &
    holder_pid=$!
    for ((i = 0; i < 600; i++)); do
        grep -q 'ready=1' "$work/holder.out" && break
        kill -0 "$holder_pid" 2>/dev/null || break
        sleep 0.05
    done
    if grep -q 'ready=1' "$work/holder.out" && start_node "$side" B "${routes[0]}"; then
        for ((i = 0; i < 3000; i++)); do
            (($(routez_num 1 subscriptions) >= nsubs)) && break
            sleep 0.005
        done
        t_done=$(date +%s.%N)
        t_route=$(log_time "${logs[1]}" "Route connection created" || true)
        if ((i < 3000)) && [[ -n $t_route ]]; then
            echo "ms=$(awk -v a="$t_done" -v b="$t_route" 'BEGIN { print (a - b) * 1000 }')" \
                >>"$work/res/interest.$side"
        else
            fail "interest, $side, repetition $rep: B did not get the $nsubs subscriptions in time"
        fi
    else
        fail "interest, $side, repetition $rep: $(tr '\n' ' ' <"$work/lg.err")"
    fi
    kill -TERM "$holder_pid" 2>/dev/null || true
    wait "$holder_pid" 2>/dev/null || true
    holder_pid=
    stop_nodes || fail "interest, $side, repetition $rep: a server died during the run"
}

# name|title|servers|subscriber servers|loadgen arguments
scenarios=(
    "rt16|Route, A to B, 16 B|2|1|-S 1 -s 16 -n $(count 3000000)"
    "rt1k|Route, A to B, 1 KiB|2|1|-S 1 -s 1024 -n $(count 800000)"
    "rq16|Queue group, a member on A, B and C, 16 B|3|0,1,2|-S 3 -q -s 16 -n $(count 3000000)"
    "rq1k|Queue group, a member on A, B and C, 1 KiB|3|0,1,2|-S 3 -q -s 1024 -n $(count 800000)"
    "rr16|Queue group, members on B and C only, 16 B|3|1,2|-S 2 -q -s 16 -n $(count 3000000)"
)

field() {
    local IFS='|'
    # shellcheck disable=SC2206 # splitting on | is the point
    local parts=($1)
    echo "${parts[$2]}"
}

for ((rep = 1; rep <= reps; rep++)); do
    sides="natsctl nats-server"
    ((rep % 2)) || sides="nats-server natsctl"
    for entry in "${scenarios[@]}"; do
        for side in $sides; do
            log "$(field "$entry" 1), $side, repetition $rep"
            # shellcheck disable=SC2046 # the loadgen arguments are a word list by design
            throughput_run "$(field "$entry" 0)" "$side" "$rep" "$(field "$entry" 2)" \
                "$(field "$entry" 3)" $(field "$entry" 4)
        done
    done
    for side in $sides; do
        log "interest of $nsubs subscriptions to a new route, $side, repetition $rep"
        interest_run "$side" "$rep"
    done
done

# Median of KEY over the runs of SCEN on SIDE, or n/a.
median() {
    local f=$work/res/$2.$3
    [[ -s $f ]] || { echo n/a; return; }
    grep -o "\(^\| \)$1=[0-9.e+-]*" "$f" | cut -d= -f2 | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2];
        else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Server CPU seconds per million messages published, per run, then their median.
cpu_per_m() {
    local f=$work/res/$1.$2
    [[ -s $f ]] || { echo n/a; return; }
    awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
           print v["srv_cpu_s"] / v["msgs"] * 1e6 }' "$f" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

values() {
    local f=$work/res/$2.$3
    [[ -s $f ]] || { echo "-"; return; }
    grep -o "\(^\| \)$1=[0-9.e+-]*" "$f" | cut -d= -f2 | paste -sd, | sed 's/,/, /g'
}

ratio() {
    [[ $1 == n/a || $2 == n/a ]] && { echo n/a; return; }
    awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2fx", a / b }'
}

# fmt KIND VALUE
fmt() {
    [[ $2 == n/a ]] && { echo n/a; return; }
    case $1 in
    rate) awk -v v="$2" 'BEGIN { printf "%.3f M", v / 1e6 }' ;;
    sec) awk -v v="$2" 'BEGIN { printf "%.3f", v }' ;;
    pct) awk -v v="$2" 'BEGIN { printf "%.0f %%", v }' ;;
    ms) awk -v v="$2" 'BEGIN { printf "%.0f", v }' ;;
    esac
}

# The bar of issue 13: 1.5x the msgs/s, or at most 0.6x the server CPU per million messages.
met() {
    [[ $1 == n/a || $2 == n/a ]] && { echo n/a; return; }
    awk -v t="${1%x}" -v c="${2%x}" 'BEGIN {
        if (t >= 1.5 && c <= 0.6) print "yes (both)"; else if (t >= 1.5) print "yes (msgs/s)";
        else if (c <= 0.6) print "yes (CPU)"; else print "no" }'
}

cat <<EOF
## Routes

\`tests/bench/route.sh\`: natsctl servers clustered with each other against nats-server
clustered with itself, fresh servers on 127.0.0.1 for every run, the same \`loadgen\` for both.
The publisher connects to A; \`--sub-ports\` puts the subscribers on the other servers, and the
clock starts once a probe from the publisher has reached every subscriber (the interest has
crossed the routes). Server CPU is user+system of every server of the run over the loadgen
run, per million messages published. Medians of $reps runs; the implementations alternate and
swap which goes first every repetition. The bar (issue 13): at least 1.5x nats-server's msgs/s,
or at most 0.6x its server CPU per million messages. Run $(date -u '+%Y-%m-%d %H:%M UTC'), natsctl
$(git rev-parse --short HEAD 2>/dev/null || echo unknown), on $(nproc) cores.

| scenario | natsctl msgs/s | nats-server msgs/s | ratio | server CPU s / M msgs natsctl | nats-server | ratio | loadgen CPU natsctl / nats-server | bar met |
|---|---:|---:|---:|---:|---:|---:|---:|---|
EOF
unmet=()
for entry in "${scenarios[@]}"; do
    scen=$(field "$entry" 0)
    n=$(median msgs_per_s "$scen" natsctl)
    m=$(median msgs_per_s "$scen" nats-server)
    cn=$(cpu_per_m "$scen" natsctl)
    cm=$(cpu_per_m "$scen" nats-server)
    printf '| %s | %s | %s | %s | %s | %s | %s | %s / %s | %s |\n' "$(field "$entry" 1)" \
        "$(fmt rate "$n")" "$(fmt rate "$m")" "$(ratio "$n" "$m")" "$(fmt sec "$cn")" \
        "$(fmt sec "$cm")" "$(ratio "$cn" "$cm")" "$(fmt pct "$(median cpu_pct "$scen" natsctl)")" \
        "$(fmt pct "$(median cpu_pct "$scen" nats-server)")" \
        "$(met "$(ratio "$n" "$m")" "$(ratio "$cn" "$cm")")"
    [[ $(met "$(ratio "$n" "$m")" "$(ratio "$cn" "$cm")") == yes* ]] || unmet+=("$(field "$entry" 1)")
done
n=$(median ms interest natsctl)
m=$(median ms interest nats-server)
interest_met=n/a
[[ $n != n/a && $m != n/a ]] && interest_met=$(awk -v a="$n" -v b="$m" 'BEGIN { print a <= b ? "yes" : "no" }')
cat <<EOF

Interest propagation: a client holds 100,000 subscriptions on A (\`loadgen subs\`), then B starts
with a route to A. Time from B's \`Route connection created\` log line until B's \`/routez\`
counts all 100,000 (polled every 5 ms). The bar: at least as fast as nats-server.

| | natsctl | nats-server | ratio | bar met |
|---|---:|---:|---:|---|
| 100,000 subscriptions to a new route (ms) | $(fmt ms "$n") | $(fmt ms "$m") | $(ratio "$n" "$m") | $interest_met |
EOF
[[ $interest_met == yes ]] || unmet+=("interest propagation")
echo
if ((${#unmet[@]})); then
    echo "**The bar is not met** for: $(printf '%s; ' "${unmet[@]}" | sed 's/; $//')."
else
    echo "**The bar is met** by every scenario."
fi
cat <<EOF

Every run (msgs/s; server CPU s of the whole run; interest in ms):

| scenario | server | msgs/s | server CPU s |
|---|---|---|---|
EOF
for entry in "${scenarios[@]}"; do
    scen=$(field "$entry" 0)
    for side in natsctl nats-server; do
        printf '| %s | %s | %s | %s |\n' "$scen" "$side" "$(values msgs_per_s "$scen" "$side")" \
            "$(values srv_cpu_s "$scen" "$side")"
    done
done
for side in natsctl nats-server; do
    printf '| interest | %s | %s ms | |\n' "$side" "$(values ms interest "$side")"
done
if [[ -s $work/failures ]]; then
    echo
    echo "Failed runs:"
    echo
    cat "$work/failures"
fi
echo
((failures == 0))
