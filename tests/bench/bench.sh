#!/usr/bin/env bash
# Benchmark: natsctl server against nats-server 2.9.10, side by side, with the same clients.
#
# usage: tests/bench/bench.sh NATSCTL LOADGEN NATSLOAD     (normally through `make bench`)
#
# NATSLOAD (tests/bench/natsload.c, on libnats) is only used by client-compare.sh, whose section
# (natsctl bench against the official C client, both driving nats-server) follows the core
# sections; then the JetStream section of tests/bench/js.sh (natsctl server -js against
# nats-server -js, or nats-server alone while natsctl has no JetStream), tests/bench/monidle.sh
# (pub/sub throughput beside 1,000 idle HTTP connections to the monitoring port), and
# tests/bench/route.sh (clusters: route throughput, queue groups over three servers, interest
# propagation), and tests/bench/tls.sh (pub to one subscriber over TLS; the cost of 100+100
# permission patterns).
#
# Every run gets a fresh server on 127.0.0.1 with a random port (read back from its ports file), so
# no run inherits another's memory or caches. For each scenario the two servers alternate, and the
# one that goes first swaps every repetition, so slow drift on this shared machine hits both
# alike. The report gives medians and natsctl/nats-server ratios; the absolute numbers only hold
# for this machine at this moment.
#
# Environment:
#   BENCH_REPS=3               repetitions per scenario and server
#   BENCH_LAT_REPS=7           repetitions of the request-reply scenarios, whose latency on this
#                              2-core machine jumps between two modes with thread placement
#   BENCH_SCALE=1              multiplies every message count (0.05 for a quick dry run)
#   BENCH_SETTLE=1             seconds a server idles before its RSS is read
#   BENCH_OUT=FILE             report path (default docs/benchmarks.md)
#   BENCH_JS=0                 leave out the JetStream section (tests/bench/js.sh, which also
#                              reads BENCH_JS_RESTART_MIB)
#   BENCH_ROUTES=0             leave out the route section (tests/bench/route.sh)
#   NATSCTL_BENCH_SELFTEST=1   run nats-server in natsctl's place too, to test this script; the
#                              report then goes to /tmp/bench-selftest.md unless BENCH_OUT
#                              says otherwise, so it cannot be mistaken for a real one
#
# Exit status: 0 when every run succeeded, 1 when any failed (the report lists them), 2 on usage.
set -euo pipefail

if [[ $# != 3 || ! -x $1 || ! -x $2 || ! -x $3 ]]; then
    echo "usage: $0 NATSCTL LOADGEN NATSLOAD   (all executable; see the header of this script)" >&2
    exit 2
fi
natsctl=$(realpath "$1")
loadgen=$(realpath "$2")
natsload=$(realpath "$3")
[[ -n ${BENCH_OUT:-} ]] && BENCH_OUT=$(realpath -m "$BENCH_OUT")
cd "$(dirname "$0")/../.."
repo=$PWD

ref=$repo/.deps/nats-server/usr/sbin/nats-server
[[ -x $ref ]] || scripts/deps.sh
reps=${BENCH_REPS:-3}
lat_reps=${BENCH_LAT_REPS:-7}
scale=${BENCH_SCALE:-1}
settle=${BENCH_SETTLE:-1}
selftest=${NATSCTL_BENCH_SELFTEST:-0}
if [[ $selftest == 1 ]]; then
    out=${BENCH_OUT:-/tmp/bench-selftest.md}
else
    out=${BENCH_OUT:-$repo/docs/benchmarks.md}
fi
if [[ ! $reps =~ ^[1-9][0-9]*$ || ! $lat_reps =~ ^[1-9][0-9]*$ ]]; then
    echo "$0: BENCH_REPS and BENCH_LAT_REPS must be positive integers" >&2
    exit 2
fi

work=$(mktemp -d /tmp/bench.XXXXXX)
mkdir -p "$work/ports" "$work/res"
srv_pid=
holder_pid=
replier_pid=
ticks=$(getconf CLK_TCK)
failures=0

# Everything this script starts is stopped by its recorded PID, whatever way the script ends.
cleanup() {
    local pid
    for pid in $replier_pid $holder_pid $srv_pid; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in $replier_pid $holder_pid $srv_pid; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() {
    printf 'bench: %s\n' "$*" >&2
}

# shellcheck source=tests/bench/server.sh
source tests/bench/server.sh

# Starts natsctl or nats-server (nats-server for both in selftest mode); sets srv_pid and srv_port.
# Further arguments are natsctl flags (nats-server always runs with its defaults).
start_server() {
    local side=$1
    shift
    local -a cmd=("$ref")
    [[ $side == natsctl && $selftest != 1 ]] && cmd=("$natsctl" server "$@")
    launch_server "$work/$side.log" "${cmd[@]}"
}

rss_kib() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$srv_pid/status" 2>/dev/null || echo 0
}

# The private part of RSS: heap, stacks, and pages written after start (not shared library text).
anon_kib() {
    awk '/^RssAnon:/ { print $2 }' "/proc/$srv_pid/status" 2>/dev/null || echo 0
}

# Records one failed run: the reason goes to the report, the run to no median.
record_failure() {
    failures=$((failures + 1))
    printf -- '- %s, %s, repetition %s: %s\n' "$1" "$2" "$3" "$4" >>"$work/failures"
    log "FAILED $1 on $2 (repetition $3): $4"
}

# One loadgen run against a fresh server; appends its result line plus srv_cpu_s to res/SCEN.SIDE.
throughput_run() {
    local scen=$1 side=$2 rep=$3 line t0 t1 err
    shift 3
    start_server "$side" || { record_failure "$scen" "$side" "$rep" "server did not start"; return; }
    t0=$(server_ticks)
    if line=$(timeout 150 "$loadgen" "$@" -p "$srv_port" -t 120 2>"$work/lg.err"); then
        t1=$(server_ticks)
        echo "$line srv_cpu_s=$(awk -v d=$((t1 - t0)) -v h="$ticks" 'BEGIN { print d / h }')" \
            >>"$work/res/$scen.$side"
    else
        err=$(tr '\n' ' ' <"$work/lg.err")
        record_failure "$scen" "$side" "$rep" "loadgen: ${err:-killed by timeout}"
    fi
    stop_server || record_failure "$scen" "$side" "$rep" "the server died during the run"
}

# Server CPU while one publisher sends 128 B messages to one subscriber at a steady RATE for the
# rate run's duration, with natsctl bench as the client for both servers. Appends srv_cpu_s and
# the run's p50 latency.
rate_run() {
    local scen=$1 side=$2 rep=$3 rate=$4 url t0 t1 json
    start_server "$side" || { record_failure "$scen" "$side" "$rep" "server did not start"; return; }
    url=nats://127.0.0.1:$srv_port
    t0=$(server_ticks)
    if json=$(timeout 120 "$natsctl" bench pubsub -s "$url" --throughput "$rate" \
        --duration "${rate_seconds}s" --size 128 --json 2>"$work/lg.err"); then
        t1=$(server_ticks)
        jq -r --arg cpu "$(awk -v d=$((t1 - t0)) -v h="$ticks" 'BEGIN { print d / h }')" \
            '"p50_us=\(.latency_us.p50) msgs_per_s=\(.aggregate.pub.msgs_per_sec) srv_cpu_s=\($cpu)"' \
            <<<"$json" >>"$work/res/$scen.$side"
    else
        record_failure "$scen" "$side" "$rep" "natsctl bench pubsub: $(tr '\n' ' ' <"$work/lg.err")"
    fi
    stop_server || record_failure "$scen" "$side" "$rep" "the server died during the run"
}

# Request-reply driven by natsctl bench: a replier process and a requester process, so neither
# client's own work sits in the other's round trip. Appends p50_us.. like loadgen's reqrep line.
# Further arguments are natsctl server flags.
bench_latency_run() {
    local scen=$1 side=$2 rep=$3 n=$4 url t0 t1 json i
    shift 4
    start_server "$side" "$@" || { record_failure "$scen" "$side" "$rep" "server did not start"; return; }
    url=nats://127.0.0.1:$srv_port
    "$natsctl" bench reply -s "$url" --msgs "$n" --json >/dev/null 2>"$work/rep.err" &
    replier_pid=$!
    for ((i = 0; i < 200; i++)); do
        grep -q 'Waiting for requests' "$work/rep.err" && break
        sleep 0.05
    done
    t0=$(server_ticks)
    if json=$(timeout 120 "$natsctl" bench request -s "$url" --msgs "$n" --size 16 --json \
        2>"$work/lg.err"); then
        t1=$(server_ticks)
        jq -r --arg cpu "$(awk -v d=$((t1 - t0)) -v h="$ticks" 'BEGIN { print d / h }')" \
            '"p50_us=\(.latency_us.p50) p90_us=\(.latency_us.p90) p99_us=\(.latency_us.p99) " +
             "msgs_per_s=\(.aggregate.req.msgs_per_sec) srv_cpu_s=\($cpu)"' <<<"$json" \
            >>"$work/res/$scen.$side"
    else
        record_failure "$scen" "$side" "$rep" "natsctl bench request: $(tr '\n' ' ' <"$work/lg.err")"
    fi
    kill -TERM "$replier_pid" 2>/dev/null || true
    wait "$replier_pid" 2>/dev/null || true
    replier_pid=
    stop_server || record_failure "$scen" "$side" "$rep" "the server died during the run"
}

# Idle RSS after a settle, then RSS once a client holds 100,000 subscriptions.
memory_run() {
    local side=$1 rep=$2 idle idle_anon i
    start_server "$side" || { record_failure memory "$side" "$rep" "server did not start"; return; }
    sleep "$settle"
    idle=$(rss_kib)
    idle_anon=$(anon_kib)
    "$loadgen" subs -p "$srv_port" -S 100000 --hold 120 >"$work/holder.out" 2>"$work/lg.err" &
    holder_pid=$!
    for ((i = 0; i < 600; i++)); do
        grep -q 'ready=1' "$work/holder.out" && break
        kill -0 "$holder_pid" 2>/dev/null || break
        sleep 0.05
    done
    if grep -q 'ready=1' "$work/holder.out"; then
        sleep "$settle"
        echo "idle_kib=$idle idle_anon_kib=$idle_anon subs_kib=$(rss_kib) $(cat "$work/holder.out")" \
            >>"$work/res/memory.$side"
    else
        record_failure memory "$side" "$rep" "loadgen subs: $(tr '\n' ' ' <"$work/lg.err")"
    fi
    kill -TERM "$holder_pid" 2>/dev/null || true
    wait "$holder_pid" 2>/dev/null || true
    holder_pid=
    stop_server || record_failure memory "$side" "$rep" "the server died during the run"
}

count() {
    awk -v n="$1" -v s="$scale" 'BEGIN { v = int(n * s); print v < 1 ? 1 : v }'
}

# name|title|loadgen arguments; counts give about 1 s per run on nats-server here.
scenarios=(
    "pub16|Publish only, 16 B|pub -s 16 -n $(count 8000000)"
    "pub128|Publish only, 128 B|pub -s 128 -n $(count 5000000)"
    "pub1k|Publish only, 1 KiB|pub -s 1024 -n $(count 2000000)"
    "sub16|Pub to 1 subscriber, 16 B|pubsub -S 1 -s 16 -n $(count 4000000)"
    "sub128|Pub to 1 subscriber, 128 B|pubsub -S 1 -s 128 -n $(count 2500000)"
    "sub1k|Pub to 1 subscriber, 1 KiB|pubsub -S 1 -s 1024 -n $(count 1000000)"
    "fan16|Fan-out to 4 subscribers, 16 B|pubsub -S 4 -s 16 -n $(count 2000000)"
    "fan128|Fan-out to 4 subscribers, 128 B|pubsub -S 4 -s 128 -n $(count 1200000)"
    "fan1k|Fan-out to 4 subscribers, 1 KiB|pubsub -S 4 -s 1024 -n $(count 350000)"
    "q16|Queue group of 4, 16 B|pubsub -S 4 -q -s 16 -n $(count 3000000)"
    "q128|Queue group of 4, 128 B|pubsub -S 4 -q -s 128 -n $(count 2000000)"
    "q1k|Queue group of 4, 1 KiB|pubsub -S 4 -q -s 1024 -n $(count 800000)"
    "rr16|Request-reply, 16 B|reqrep -s 16 -n $(count 10000) --warmup $(count 1000)"
    "rrb16|Request-reply, 16 B, natsctl bench|$(count 20000)"
    "rrp16|Request-reply, 16 B, natsctl bench, natsctl with --busy_poll 100|$(count 20000)"
    "rate1k|Steady 1,000 msgs/s|1000"
    "rate10k|Steady 10,000 msgs/s|10000"
    "rate50k|Steady 50,000 msgs/s|50000"
    "rate200k|Steady 200,000 msgs/s|200000"
)

# How long each steady-rate run lasts: 5 s, scaled like the message counts (at least 1 s).
rate_seconds=$(awk -v s="$scale" 'BEGIN { v = int(5 * s + 0.5); print v < 1 ? 1 : v }')

# The order of the two sides in repetition REP: natsctl first in odd ones.
sides_for() {
    if (($1 % 2)); then echo natsctl nats-server; else echo nats-server natsctl; fi
}

run_all() {
    local entry scen args rep side n
    for entry in "${scenarios[@]}"; do
        scen=${entry%%|*}
        args=${entry##*|}
        n=$reps
        [[ $scen == rr* ]] && n=$lat_reps
        log "$scen: $args ($n repetitions)"
        for ((rep = 1; rep <= n; rep++)); do
            for side in $(sides_for "$rep"); do
                if [[ $scen == rrb16 ]]; then
                    bench_latency_run "$scen" "$side" "$rep" "$args"
                elif [[ $scen == rrp16 ]]; then
                    bench_latency_run "$scen" "$side" "$rep" "$args" --busy_poll 100
                elif [[ $scen == rate* ]]; then
                    rate_run "$scen" "$side" "$rep" "$args"
                else
                    # shellcheck disable=SC2086 # args is a word list by design
                    throughput_run "$scen" "$side" "$rep" $args
                fi
            done
        done
    done
    log "memory: idle and with 100,000 subscriptions"
    for ((rep = 1; rep <= reps; rep++)); do
        for side in $(sides_for "$rep"); do
            memory_run "$side" "$rep"
        done
    done
}

# Median of KEY over the runs of SCEN on SIDE, or "n/a" when no run succeeded.
median() {
    local file=$work/res/$2.$3
    [[ -s $file ]] || { echo n/a; return; }
    awk -v k="$1" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }' \
        "$file" | sort -g | awk '{ v[NR] = $1 } END {
            if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2];
            else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Every value of KEY over the runs, for the raw-data section.
values() {
    local file=$work/res/$2.$3
    [[ -s $file ]] || { echo "-"; return; }
    awk -v k="$1" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) printf "%s%s", sep, substr($i, length(k) + 2); sep = ", " } END { print "" }' "$file"
}

# "yes" when the ranges (slowest to fastest run) of the two servers overlap on SCEN: then the
# ratio of the medians is within this machine's noise, whatever its value.
overlap() {
    local f1=$work/res/$1.natsctl f2=$work/res/$1.nats-server
    [[ -s $f1 && -s $f2 ]] || { echo n/a; return; }
    awk '
        FNR == 1 { f++ }
        { for (i = 1; i <= NF; i++) if (index($i, "msgs_per_s=") == 1) v = substr($i, 12) + 0 }
        !(f in lo) || v < lo[f] { lo[f] = v }
        !(f in hi) || v > hi[f] { hi[f] = v }
        END { print (hi[1] >= lo[2] && hi[2] >= lo[1]) ? "yes" : "no" }' "$f1" "$f2"
}

# fmt KIND VALUE: msgs/s as millions, percentages and seconds to one decimal or two.
fmt() {
    [[ $2 == n/a ]] && { echo n/a; return; }
    case $1 in
    rate) awk -v v="$2" 'BEGIN { printf "%.3f M", v / 1e6 }' ;;
    pct) awk -v v="$2" 'BEGIN { printf "%.0f %%", v }' ;;
    sec) awk -v v="$2" 'BEGIN { printf "%.2f", v }' ;;
    us) awk -v v="$2" 'BEGIN { printf "%.1f", v }' ;;
    kib) awk -v v="$2" 'BEGIN { printf "%.1f MiB", v / 1024 }' ;;
    int) awk -v v="$2" 'BEGIN { printf "%.0f", v }' ;;
    esac
}

ratio() {
    [[ $1 == n/a || $2 == n/a ]] && { echo n/a; return; }
    awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2fx", a / b }'
}

# Marks a median client CPU share of 90 % of its one core or more: such a number is client-bound.
cpu_cell() {
    local v
    v=$(fmt pct "$1")
    if [[ $1 != n/a ]] && awk -v v="$1" 'BEGIN { exit !(v >= 90) }'; then
        v="$v (client-bound)"
    fi
    echo "$v"
}

throughput_table() {
    local prefix=$1 s scen title n m
    echo "| payload | natsctl msgs/s | nats-server msgs/s | ratio | runs overlap | loadgen CPU natsctl / nats-server | server CPU s natsctl / nats-server |"
    echo "|---|---:|---:|---:|---|---:|---:|"
    for s in 16 128 1k; do
        scen=$prefix$s
        title=$(scenario_title "$scen")
        n=$(median msgs_per_s "$scen" natsctl)
        m=$(median msgs_per_s "$scen" nats-server)
        printf '| %s | %s | %s | %s | %s | %s / %s | %s / %s |\n' "${title##*, }" "$(fmt rate "$n")" \
            "$(fmt rate "$m")" "$(ratio "$n" "$m")" "$(overlap "$scen")" \
            "$(cpu_cell "$(median cpu_pct "$scen" natsctl)")" \
            "$(cpu_cell "$(median cpu_pct "$scen" nats-server)")" \
            "$(fmt sec "$(median srv_cpu_s "$scen" natsctl)")" \
            "$(fmt sec "$(median srv_cpu_s "$scen" nats-server)")"
    done
}

scenario_title() {
    local entry
    for entry in "${scenarios[@]}"; do
        [[ ${entry%%|*} == "$1" ]] || continue
        entry=${entry#*|}
        echo "${entry%%|*}"
    done
}

scenario_args() {
    local entry
    for entry in "${scenarios[@]}"; do
        [[ ${entry%%|*} == "$1" ]] && echo "${entry##*|}"
    done
}

# One line of the summary: TARGET, the measured ratio, and whether it meets OP LIMIT.
bar_row() {
    local met=no
    [[ $2 == n/a ]] && met=n/a
    if [[ $2 != n/a ]] && awk -v r="${2%x}" -v l="$4" -v op="$3" \
        'BEGIN { exit !((op == ">=" && r >= l) || (op == "<" && r < l) || (op == "<=" && r <= l)) }'; then
        met=yes
    fi
    printf '| %s | %s | %s |\n' "$1" "$2" "$met"
}

tp_ratio() {
    ratio "$(median msgs_per_s "$1" natsctl)" "$(median msgs_per_s "$1" nats-server)"
}

lat_ratio() {
    ratio "$(median "$1" "$2" natsctl)" "$(median "$1" "$2" nats-server)"
}

mem_ratio() {
    ratio "$(median "$1" memory natsctl)" "$(median "$1" memory nats-server)"
}

report_header() {
    local cpu commit dirty version banner=
    cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    version=$("$natsctl" --version 2>/dev/null | head -1 || true)
    commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
    dirty=$(GIT_OPTIONAL_LOCKS=0 git -C "$repo" status --porcelain 2>/dev/null | head -1)
    [[ -n $dirty ]] && commit="$commit plus uncommitted changes"
    [[ $selftest == 1 ]] && banner=$'\n**SELFTEST: nats-server ran in natsctl\'s place. These numbers compare
nats-server with itself and only test the script.**\n'
    cat <<EOF
# Benchmarks: natsctl server and nats-server

Written by \`make bench\` (tests/bench/bench.sh); rerun it rather than editing this file.
$banner

## Machine

| | |
|---|---|
| CPU | ${cpu:-unknown} |
| cores (nproc) | $(nproc) |
| memory | $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) |
| kernel | $(uname -sr) |
| date | $(date -u '+%Y-%m-%d %H:%M UTC') |

## Versions

| | |
|---|---|
| natsctl | ${version:-unknown}, commit $commit |
| nats-server | $("$ref" --version 2>&1 | head -1) |
| compiler | $(cc --version | head -1) |
| natsctl binary | $(build_kind) |
| clients | tests/bench/loadgen and natsctl bench (the same binaries for both servers) |
EOF
}

# How the natsctl under test was linked: memory results depend on it.
build_kind() {
    if readelf -d "$natsctl" 2>/dev/null | grep -q NEEDED; then
        echo "dynamic, glibc $(ldd --version | head -1 | awk '{print $NF}')"
    else
        echo "static, musl $(dpkg-query -W -f='${Version}' musl-dev 2>/dev/null)"
    fi
}

report_method() {
    cat <<EOF

## Method

- $reps repetitions of every scenario per server. The two servers alternate run by run and swap
  which goes first every repetition. Every run starts a fresh server on 127.0.0.1 with a random
  port and stops it afterwards. Tables show medians; a ratio is natsctl's median divided by
  nats-server's.
- The client is \`loadgen\`: one thread drives all connections through \`poll()\` over raw
  non-blocking sockets. Publishers write a pre-built buffer of \`PUB\` frames in large writes, with
  a \`PING\` every ~64 KiB and at most 16 unanswered, and may run at most 8 MiB of frames ahead
  of the slowest subscriber. Subscribers read 256 KiB at a time and count \`MSG\` frames exactly.
  After each pubsub run, a final PING/PONG on every connection proves that no message was lost
  or duplicated; any discrepancy fails the run.
- msgs/s is messages *published* per second. Publish only: N over the time until the PONG that
  answers the PING after the last message. Pubsub and queue: the time from the first publish until
  every subscriber (or, for the queue group, the group as a whole) has all its messages. Fan-out
  delivers 4 times as many messages as it publishes.
- Is the client the bottleneck? loadgen measures its own user+system CPU (getrusage) over the
  measured phase and reports it as a share of one core, the most a single thread can use. The
  machine has $(nproc) cores, so a client below ~90 % leaves the server at least one core to itself.
  A median at 90 % or more is marked *client-bound*: that number says more about the client than
  about the server.
- Server CPU is the utime+stime delta in /proc/PID/stat across the whole loadgen run, which
  includes connecting.
- Both servers run with their defaults. For natsctl that is \`--busy_poll auto\`
  (docs/architecture.md): it polls for up to 100 µs after traffic only while polls mostly catch
  traffic, and batches steady streams of small writes with 50 µs naps; the server CPU columns
  include what polling costs. One request-reply scenario runs natsctl with \`--busy_poll 100\`,
  the latency option, which polls after all traffic whatever it costs.
- Request-reply: one responder connection, one requester that has one request outstanding at a
  time; $(count 1000) warm-up round trips, then $(count 10000) measured, $lat_reps repetitions per
  server. Latency includes the client's own poll loop, the same for both servers. On 2 shared
  cores a run's median round trip jumps between two modes (about 55 and 150 µs against
  nats-server when this was written) depending on where the scheduler puts the threads, hence the
  extra repetitions; look at every run below before trusting a small latency ratio.
- Memory: VmRSS from /proc/PID/status ${settle} s after start (idle), then ${settle} s after one
  client has subscribed to 100,000 distinct subjects (\`bench.sub.<i>\`) and had its PONG.
  VmRSS counts every page a process has mapped, including file pages of its program and
  libraries. natsctl is built as one static binary with musl (see docs/architecture.md): the
  same code linked dynamically against glibc idled at 2.5 MiB, 2.3 MiB of it libc, the loader,
  libm and libuv pages that ld.so and the kernel's fault-around (16 pages around every page
  fault) map before main() runs; a static glibc build still idled at 1.38 MiB, because glibc
  alone brings 0.8 MiB of text. RssAnon, the private part (heap, stacks, written data), is shown
  as well.
- The machine is shared and noisy. Read the ratios, not the absolute numbers. When this script
  was written, self-tests (\`NATSCTL_BENCH_SELFTEST=1\`: nats-server on both sides) gave
  throughput ratios between 0.90x and 1.14x on a quiet machine and between 0.82x and 1.37x
  under a load average of 4. *Runs overlap* says whether the two servers' slowest-to-fastest
  ranges overlap; if they do, the ratio is within the noise whatever its value. More repetitions
  (\`BENCH_REPS=5\`) narrow it.
EOF
}

# What one subscription costs SIDE: the RSS growth with 100,000 of them, per subscription.
bytes_per_sub() {
    awk -v a="$(median subs_kib memory "$1")" -v b="$(median idle_kib memory "$1")" \
        'BEGIN { if (a == "n/a" || b == "n/a") print "n/a"; else print (a - b) * 1024 / 100000 }'
}

report_summary() {
    cat <<EOF

## Against the project's targets

| target | natsctl / nats-server | met |
|---|---:|---|
EOF
    bar_row "pub to 1 subscriber, 16 B: at least 2x the msgs/s" "$(tp_ratio sub16)" ">=" 2
    bar_row "pub to 1 subscriber, 128 B: at least 2x" "$(tp_ratio sub128)" ">=" 2
    bar_row "fan-out to 4, 16 B: at least 1.5x" "$(tp_ratio fan16)" ">=" 1.5
    bar_row "fan-out to 4, 128 B: at least 1.5x" "$(tp_ratio fan128)" ">=" 1.5
    bar_row "fan-out to 4, 1 KiB: at least 1.5x" "$(tp_ratio fan1k)" ">=" 1.5
    bar_row "queue group of 4, 16 B: at least 1.5x" "$(tp_ratio q16)" ">=" 1.5
    bar_row "queue group of 4, 128 B: at least 1.5x" "$(tp_ratio q128)" ">=" 1.5
    bar_row "queue group of 4, 1 KiB: at least 1.5x" "$(tp_ratio q1k)" ">=" 1.5
    bar_row "server CPU at a steady 1,000 msgs/s: at most 0.6x" "$(lat_ratio srv_cpu_s rate1k)" "<=" 0.6
    bar_row "server CPU at a steady 10,000 msgs/s: at most 0.6x" "$(lat_ratio srv_cpu_s rate10k)" "<=" 0.6
    bar_row "server CPU at a steady 50,000 msgs/s: at most 0.6x" "$(lat_ratio srv_cpu_s rate50k)" "<=" 0.6
    bar_row "server CPU at a steady 200,000 msgs/s: at most 0.6x" "$(lat_ratio srv_cpu_s rate200k)" "<=" 0.6
    bar_row "request-reply p50 with --busy_poll 100: at most 0.6x" "$(lat_ratio p50_us rrp16)" "<=" 0.6
    bar_row "request-reply p50 (natsctl bench, defaults): at most 0.6x (a goal)" "$(lat_ratio p50_us rrb16)" "<=" 0.6
    bar_row "request-reply p99 (natsctl bench): at most 0.6x" "$(lat_ratio p99_us rrb16)" "<=" 0.6
    bar_row "request-reply p50 (loadgen, one process): at most 0.6x" "$(lat_ratio p50_us rr16)" "<=" 0.6
    bar_row "request-reply p99 (loadgen, one process): at most 0.6x" "$(lat_ratio p99_us rr16)" "<=" 0.6
    bar_row "idle RSS: under 1/10" "$(mem_ratio idle_kib)" "<" 0.1
    bar_row "bytes per subscription at 100,000 (absolute): at most 300" \
        "$(fmt int "$(bytes_per_sub natsctl)")" "<=" 300
}

report_throughput() {
    local prefix title
    echo
    echo "## Throughput"
    for prefix in pub sub fan q; do
        title=$(scenario_title "${prefix}16")
        printf '\n### %s\n\n' "${title%, *}"
        echo "\`loadgen $(scenario_args "${prefix}16")\` (-s and -n vary with the payload)"
        echo
        throughput_table "$prefix"
    done
}

latency_row() {
    local n m
    n=$(median "$2" "$4" natsctl)
    m=$(median "$2" "$4" nats-server)
    printf '| %s | %s | %s | %s |\n' "$1" "$(fmt "$3" "$n")" "$(fmt "$3" "$m")" "$(ratio "$n" "$m")"
}

report_latency() {
    cat <<EOF

## Request-reply round trip, 16 B

Two drivers. \`natsctl bench request\` and \`natsctl bench reply\` run as two processes
(\`--msgs $(scenario_args rrb16)\`), so each client has its own event loop and a round trip is
client, server, replier, server, client. \`loadgen $(scenario_args rr16)\` runs requester and
responder in one thread, so its own loop sits in every round trip twice.

| | natsctl | nats-server | ratio |
|---|---:|---:|---:|
EOF
    latency_row "natsctl bench: p50 (µs)" p50_us us rrb16
    latency_row "natsctl bench: p90 (µs)" p90_us us rrb16
    latency_row "natsctl bench: p99 (µs)" p99_us us rrb16
    latency_row "natsctl bench: round trips/s" msgs_per_s int rrb16
    latency_row "natsctl bench: server CPU s" srv_cpu_s sec rrb16
    latency_row "natsctl --busy_poll 100: p50 (µs)" p50_us us rrp16
    latency_row "natsctl --busy_poll 100: p99 (µs)" p99_us us rrp16
    latency_row "natsctl --busy_poll 100: server CPU s" srv_cpu_s sec rrp16
    latency_row "loadgen: p50 (µs)" p50_us us rr16
    latency_row "loadgen: p90 (µs)" p90_us us rr16
    latency_row "loadgen: p99 (µs)" p99_us us rr16
    latency_row "loadgen: round trips/s" msgs_per_s int rr16
    latency_row "loadgen: CPU" cpu_pct pct rr16
    latency_row "loadgen: server CPU s" srv_cpu_s sec rr16
}

report_rates() {
    local r
    cat <<EOF

## Server CPU at steady rates

\`natsctl bench pubsub --throughput R --duration ${rate_seconds}s --size 128\`: one publisher, one
subscriber, the same client for both servers. Server CPU is utime+stime over the run; p50 is the
run's end-to-end latency. Both servers run with their defaults, so natsctl polls and batches
only where that saves CPU (\`--busy_poll auto\`, docs/architecture.md).

| msgs/s | server CPU s natsctl | nats-server | ratio | p50 µs natsctl | nats-server |
|---:|---:|---:|---:|---:|---:|
EOF
    for r in 1k 10k 50k 200k; do
        printf '| %s | %s | %s | %s | %s | %s |\n' "$r" \
            "$(fmt sec "$(median srv_cpu_s "rate$r" natsctl)")" \
            "$(fmt sec "$(median srv_cpu_s "rate$r" nats-server)")" \
            "$(lat_ratio srv_cpu_s "rate$r")" \
            "$(fmt us "$(median p50_us "rate$r" natsctl)")" \
            "$(fmt us "$(median p50_us "rate$r" nats-server)")"
    done
}

report_memory() {
    local n m
    cat <<EOF

## Memory (VmRSS)

| | natsctl | nats-server | ratio |
|---|---:|---:|---:|
EOF
    memory_row "idle" idle_kib
    memory_row "idle, private (RssAnon)" idle_anon_kib
    memory_row "100,000 subscriptions" subs_kib
    n=$(bytes_per_sub natsctl)
    m=$(bytes_per_sub nats-server)
    printf '| bytes per subscription (difference / 100,000) | %s | %s | %s |\n' \
        "$(fmt int "$n")" "$(fmt int "$m")" \
        "$(ratio "$n" "$m")"
}

memory_row() {
    local n m
    n=$(median "$2" memory natsctl)
    m=$(median "$2" memory nats-server)
    printf '| %s | %s | %s | %s |\n' "$1" "$(fmt kib "$n")" "$(fmt kib "$m")" "$(ratio "$n" "$m")"
}

report_raw() {
    local entry scen side
    cat <<EOF

## Every run

Per run, in order of repetition. Throughput in msgs/s, loadgen CPU in % of one core, server CPU
in seconds.

| scenario | server | msgs/s | loadgen CPU % | server CPU s |
|---|---|---|---|---|
EOF
    for entry in "${scenarios[@]}"; do
        scen=${entry%%|*}
        for side in natsctl nats-server; do
            printf '| %s | %s | %s | %s | %s |\n' "$scen" "$side" \
                "$(values msgs_per_s "$scen" "$side")" "$(values cpu_pct "$scen" "$side")" \
                "$(values srv_cpu_s "$scen" "$side")"
        done
    done
    for side in natsctl nats-server; do
        printf '| memory idle / 100k subs (KiB) | %s | %s | %s | |\n' "$side" \
            "$(values idle_kib memory "$side")" "$(values subs_kib memory "$side")"
    done
    printf '\n## Failed runs\n\n'
    if [[ -s $work/failures ]]; then cat "$work/failures"; else echo "None."; fi
}

write_report() {
    local tmp=$out.tmp.$$
    {
        report_header
        report_method
        report_summary
        report_throughput
        report_latency
        report_rates
        report_memory
        cat "$work/clients.md"
        cat "$work/js.md"
        cat "$work/monidle.md"
        cat "$work/route.md"
        cat "$work/tls.md"
        report_raw
    } >"$tmp"
    mv "$tmp" "$out"
}

start=$SECONDS
if [[ $selftest == 1 ]]; then
    log "SELFTEST: nats-server plays both sides; $reps repetitions, scale $scale"
else
    log "natsctl: $natsctl; nats-server: $ref; $reps repetitions, scale $scale"
fi
run_all
log "clients: natsctl bench against libnats on nats-server"
if ! BENCH_SCALE=$scale tests/bench/client-compare.sh "$natsctl" "$natsload" >"$work/clients.md"; then
    failures=$((failures + 1))
    echo "- client comparison: tests/bench/client-compare.sh failed (its section lists the runs)" \
        >>"$work/failures"
fi
if [[ ${BENCH_JS:-1} == 0 ]]; then
    : >"$work/js.md"
elif ! BENCH_SCALE=$scale BENCH_REPS=$reps tests/bench/js.sh "$natsctl" >"$work/js.md"; then
    failures=$((failures + 1))
    echo "- JetStream: tests/bench/js.sh failed (its section lists the runs)" >>"$work/failures"
fi
log "monitoring: pub/sub beside 1,000 idle HTTP connections"
if ! BENCH_SCALE=$scale BENCH_REPS=$reps tests/bench/monidle.sh "$natsctl" "$loadgen" \
    "$(dirname "$loadgen")/httpidle" >"$work/monidle.md"; then
    failures=$((failures + 1))
    echo "- monitoring: tests/bench/monidle.sh failed (its section lists the runs)" >>"$work/failures"
fi
log "routes: natsctl clusters against nats-server clusters"
if [[ ${BENCH_ROUTES:-1} == 0 ]]; then
    : >"$work/route.md"
elif ! BENCH_SCALE=$scale BENCH_REPS=$reps tests/bench/route.sh "$natsctl" "$loadgen" \
    >"$work/route.md"; then
    failures=$((failures + 1))
    echo "- routes: tests/bench/route.sh failed (its section lists the runs)" >>"$work/failures"
fi
log "TLS and permissions: tests/bench/tls.sh"
if [[ $selftest == 1 ]]; then
    : >"$work/tls.md" # its client is natsctl bench, which selftest's nats-server binary is not
elif ! BENCH_SCALE=$scale BENCH_REPS=$reps tests/bench/tls.sh "$natsctl" >"$work/tls.md"; then
    failures=$((failures + 1))
    echo "- TLS and permissions: tests/bench/tls.sh failed (its section lists the runs)" \
        >>"$work/failures"
fi
write_report
log "wrote $out in $((SECONDS - start)) s, $failures failed run(s)"
((failures == 0))
