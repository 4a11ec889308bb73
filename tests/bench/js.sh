#!/usr/bin/env bash
# JetStream benchmark: natsctl server -js against nats-server -js, as a markdown section for
# docs/benchmarks.md on stdout (bench.sh includes it). Progress goes to stderr.
#
# usage: tests/bench/js.sh NATSCTL
#
# 1. Stream publish with PubAcks, driven by `natsctl bench pub --js` for both servers: file and
#    memory storage x 16 B and 1 KiB x synchronous acks and an asynchronous window of 256. Each run
#    gets a fresh server and store; the stream is created first (so the bench keeps it) and the
#    server's CPU is read from /proc across the bench run.
# 2. Bytes in the store's files per message (apparent size, du -sb of the store directory, over N)
#    after the windowed file runs, minus the payload: the per-message overhead.
# 3. Core traffic beside a stream publisher: request-reply round trips (natsctl bench request and
#    reply, 16 B) alone, then while `bench pub --js` fills a file stream with 1 KiB messages as fast
#    as its window allows, on the same server: whether disk I/O stalls the loop for other clients.
#    A server that stores faster also takes more of the two cores from the clients measuring, so
#    a third row holds the publisher at BENCH_JS_BESIDE_RATE (20000) msgs/s on both servers.
# 4. Restart: a file stream of BENCH_JS_RESTART_MIB (1024) MiB of 1 KiB messages, then the time
#    from exec until STREAM.INFO answers with every message, after a clean stop (SIGTERM) and
#    after kill -9.
# 5. Consumers, file storage, 16 B and 1 KiB: `natsctl bench sub --js` reads a stream filled just
#    before (one fill per payload size and repetition serves the three rows) through a pull consumer
#    (batches of 100, explicit acks) and a push consumer (acks none, then explicit); server CPU over
#    each read.
# 6. Redelivery: jscons (tests/bench/jscons.c, libnats) fetches 100,000 messages through a pull
#    consumer with a 2 s ack_wait without acking them, waits until they have expired, and times
#    fetching all of them again.
# 7. Pending cost: jscons times CONSUMER.INFO, a -NAK with the fetch that brings the message back,
#    and an ack sent as a request, with 1,000 and then with 100,000 messages pending on the
#    consumer (medians of BENCH_JS_OPS each): the cost must not grow with what is pending.
#
# While `natsctl server -js` does not start (JetStream still missing), only nats-server is
# measured and the section says "skipped: natsctl has no JetStream".
#
# Environment: JSREADY and JSCONS (default: tests/bench/jsready and jscons next to NATSCTL's
# build), BENCH_REPS=3, BENCH_SCALE=1 (multiplies message counts and the restart size),
# BENCH_JS_RESTART_MIB=1024, BENCH_JS_OPS=2000 (operations per kind in 7),
# BENCH_JS_BESIDE_RATE=20000 (the held publisher in 3), BENCH_JS_ONLY=publish (1-4) or consume
# (5-7) to run one half. Exit status: 0, or 1 when any run failed (the section lists them).
set -euo pipefail

if [[ $# != 1 || ! -x $1 ]]; then
    echo "usage: $0 NATSCTL" >&2
    exit 2
fi
natsctl=$(realpath "$1")
jsready=${JSREADY:-$(dirname "$natsctl")/tests/bench/jsready}
jscons=${JSCONS:-$(dirname "$natsctl")/tests/bench/jscons}
only=${BENCH_JS_ONLY:-}
ops=${BENCH_JS_OPS:-2000}
if [[ -n $only && $only != publish && $only != consume ]]; then
    echo "$0: BENCH_JS_ONLY is publish or consume, not '$only'" >&2
    exit 2
fi
cd "$(dirname "$0")/../.."
ref=$PWD/.deps/nats-server/usr/sbin/nats-server
reps=${BENCH_REPS:-3}
scale=${BENCH_SCALE:-1}
restart_mib=$(awk -v m="${BENCH_JS_RESTART_MIB:-1024}" -v s="$scale" \
    'BEGIN { v = int(m * s); print v < 1 ? 1 : v }')
ticks=$(getconf CLK_TCK)
beside_rate=${BENCH_JS_BESIDE_RATE:-20000}

work=$(mktemp -d /tmp/bench-js.XXXXXX)
mkdir -p "$work/ports" "$work/res"
srv_pid=
failures=0

cleanup() {
    [[ -n $srv_pid ]] && stop_server
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() {
    printf 'bench-js: %s\n' "$*" >&2
}

# shellcheck source=tests/bench/server.sh
source tests/bench/server.sh

# start_js SIDE STORE: a JetStream server on STORE; sets srv_pid, srv_port and url.
start_js() {
    local -a cmd=("$ref")
    [[ $1 == natsctl ]] && cmd=("$natsctl" server)
    launch_server "$work/$1.log" "${cmd[@]}" -js -sd "$2" || return 1
    url=nats://127.0.0.1:$srv_port
}

api() {
    "$natsctl" -s "$url" request --timeout 5s "\$JS.API.$1" "${2:-}" 2>/dev/null
}

count() {
    awk -v n="$1" -v s="$scale" 'BEGIN { v = int(n * s); print v < 1 ? 1 : v }'
}

record_failure() {
    failures=$((failures + 1))
    printf -- '- %s, %s, repetition %s: %s\n' "$1" "$2" "$3" "$4" >>"$work/failures"
    log "FAILED $1 on $2 (repetition $3): $4"
}

sides=(nats-server)
natsctl_note=
if start_js natsctl "$work/probe" 2>/dev/null; then
    stop_server || true
    sides=(natsctl nats-server)
else
    natsctl_note="skipped: natsctl has no JetStream ($(tail -n 1 "$work/natsctl.log"))"
    log "$natsctl_note"
fi
rm -rf "$work/probe"

# name|storage|size|bench flags|messages (about 1-2 s per run on nats-server here)
scenarios=(
    "file16sync|file|16|--sync|$(count 20000)"
    "file16win|file|16|--window 256|$(count 200000)"
    "file1ksync|file|1024|--sync|$(count 15000)"
    "file1kwin|file|1024|--window 256|$(count 100000)"
    "mem16sync|memory|16|--sync|$(count 30000)"
    "mem16win|memory|16|--window 256|$(count 300000)"
    "mem1ksync|memory|1024|--sync|$(count 20000)"
    "mem1kwin|memory|1024|--window 256|$(count 150000)"
)

# name|size|bench sub flags; one fill per size serves its rows (about 1 s per read on nats-server)
consume_scenarios=(
    "pull16|16|--pull --batch 100 --ack explicit"
    "pushnone16|16|--push --ack none"
    "pushack16|16|--push --ack explicit"
    "pull1k|1024|--pull --batch 100 --ack explicit"
    "pushnone1k|1024|--push --ack none"
    "pushack1k|1024|--push --ack explicit"
)
consume_msgs16=$(count 100000)
consume_msgs1k=$(count 50000)
pending_big=$(count 100000)
((pending_big < 1000)) && pending_big=1000

# One bench run on a fresh server and store; appends msgs/s, latency, server CPU and, for file
# storage, the store's apparent bytes per message to res/SCEN.SIDE.
publish_run() {
    local scen=$1 storage=$2 size=$3 flags=$4 n=$5 side=$6 rep=$7 store=$work/store t0 t1 json
    local cfg="{\"name\":\"JSB\",\"subjects\":[\"jsb.x\"],\"storage\":\"$storage\"}" cpu disk
    start_js "$side" "$store" || { record_failure "$scen" "$side" "$rep" "server did not start"; return; }
    if ! api STREAM.CREATE.JSB "$cfg" | grep -q '"did_create"\|"config"'; then
        record_failure "$scen" "$side" "$rep" "cannot create the stream"
    else
        t0=$(server_ticks)
        # shellcheck disable=SC2086 # flags are two words
        if json=$(timeout 120 "$natsctl" bench pub --js -s "$url" --stream JSB $flags --size "$size" \
            --msgs "$n" --json jsb.x 2>"$work/bench.err"); then
            t1=$(server_ticks)
            cpu=$(awk -v d=$((t1 - t0)) -v h="$ticks" 'BEGIN { print d / h }')
            disk=$(du -sb "$store" | awk -v n="$n" -v s="$size" '{ printf "%.1f", $1 / n - s }')
            jq -r --arg cpu "$cpu" --arg disk "$disk" \
                '"msgs_per_s=\(.aggregate.pub.msgs_per_sec) p50_us=\(.latency_us.p50) " +
                 "p99_us=\(.latency_us.p99) acked=\(.acked) srv_cpu_s=\($cpu) disk_extra=\($disk)"' \
                <<<"$json" >>"$work/res/$scen.$side"
        else
            record_failure "$scen" "$side" "$rep" "bench: $(tr '\n' ' ' <"$work/bench.err")"
        fi
    fi
    stop_server || record_failure "$scen" "$side" "$rep" "the server died during the run"
    rm -rf "$store"
}

# Request-reply round trips on the running server: appends p50/p99 to res/SCEN.SIDE.
reqrep() {
    local scen=$1 side=$2 n=$3 rep_pid json i
    "$natsctl" bench reply -s "$url" --msgs "$n" --json rr.x >/dev/null 2>"$work/rep.err" &
    rep_pid=$!
    for ((i = 0; i < 200; i++)); do
        grep -q 'Waiting for requests' "$work/rep.err" && break
        sleep 0.02
    done
    if json=$(timeout 120 "$natsctl" bench request -s "$url" --msgs "$n" --size 16 --json rr.x \
        2>"$work/req.err"); then
        jq -r '"p50_us=\(.latency_us.p50) p99_us=\(.latency_us.p99)"' <<<"$json" >>"$work/res/$scen.$side"
    else
        record_failure "$scen" "$side" 1 "bench request: $(tr '\n' ' ' <"$work/req.err")"
    fi
    kill "$rep_pid" 2>/dev/null || true
    wait "$rep_pid" 2>/dev/null || true
}

# Core request-reply latency alone and beside a stream publisher on one server.
beside_run() {
    local side=$1 n pub_pid
    n=$(count 20000)
    start_js "$side" "$work/store" || { record_failure beside "$side" 1 "server did not start"; return; }
    api STREAM.CREATE.JSB '{"name":"JSB","subjects":["jsb.x"],"storage":"file"}' >/dev/null
    reqrep alone "$side" "$n"
    "$natsctl" bench pub --js -s "$url" --stream JSB --window 256 --size 1024 --duration 60s \
        jsb.x >/dev/null 2>&1 &
    pub_pid=$!
    sleep 0.5
    reqrep beside "$side" "$n"
    kill -INT "$pub_pid" 2>/dev/null || true
    wait "$pub_pid" 2>/dev/null || true
    "$natsctl" bench pub --js -s "$url" --stream JSB --window 256 --size 1024 --duration 60s \
        --throughput "$beside_rate" jsb.x >/dev/null 2>&1 &
    pub_pid=$!
    sleep 0.5
    reqrep beside_rate "$side" "$n"
    kill -INT "$pub_pid" 2>/dev/null || true
    wait "$pub_pid" 2>/dev/null || true
    stop_server || record_failure beside "$side" 1 "the server died during the run"
    rm -rf "$work/store"
}

# Starts SIDE on the store at port $srv_port and sets ready_s to the seconds from exec until
# STREAM.INFO.JSB reports $2 messages, or to n/a. jsready polls every millisecond from one process,
# so the measurement costs far less than what it measures.
ready_after() {
    local side=$1 want=$2 out
    local -a cmd=("$ref" -a 127.0.0.1)
    [[ $side == natsctl ]] && cmd=("$natsctl" server)
    ready_s=n/a
    out=$("$jsready" "$srv_port" JSB "$want" -- "${cmd[@]}" -js -sd "$work/store" -p "$srv_port" \
        2>>"$work/$side.log") || return 0
    read -r ready_s srv_pid <<<"$out"
    url=nats://127.0.0.1:$srv_port
}

# Fills a file stream with restart_mib MiB of 1 KiB messages, then times a restart after a clean
# stop and after kill -9.
restart_run() {
    local side=$1 n=$((restart_mib * 1024)) clean killed
    start_js "$side" "$work/store" || { record_failure restart "$side" 1 "server did not start"; return; }
    api STREAM.CREATE.JSB '{"name":"JSB","subjects":["jsb.x"],"storage":"file"}' >/dev/null
    if ! timeout 900 "$natsctl" bench pub --js -s "$url" --stream JSB --window 256 --size 1024 \
        --msgs "$n" --json jsb.x >/dev/null 2>"$work/bench.err"; then
        record_failure restart "$side" 1 "fill: $(tr '\n' ' ' <"$work/bench.err")"
        stop_server || true
        rm -rf "$work/store"
        return
    fi
    stop_server || true
    ready_after "$side" "$n"
    clean=$ready_s
    if [[ -n $srv_pid ]]; then
        kill -KILL "$srv_pid"
        wait "$srv_pid" 2>/dev/null || true
        srv_pid=
    fi
    ready_after "$side" "$n"
    killed=$ready_s
    [[ -n $srv_pid ]] && { stop_server || true; }
    [[ $clean == n/a || $killed == n/a ]] &&
        record_failure restart "$side" 1 "not ready with $n messages (clean $clean, kill -9 $killed)"
    echo "clean_s=$clean kill9_s=$killed msgs=$n" >>"$work/res/restart.$side"
    rm -rf "$work/store"
}

# A fresh server with file stream JSB holding N messages of SIZE bytes; 1 when it failed.
filled_server() {
    local what=$1 side=$2 rep=$3 size=$4 n=$5
    start_js "$side" "$work/store" || { record_failure "$what" "$side" "$rep" "server did not start"; return 1; }
    api STREAM.CREATE.JSB '{"name":"JSB","subjects":["jsb.x"],"storage":"file"}' >/dev/null
    if ! timeout 300 "$natsctl" bench pub --js -s "$url" --stream JSB --window 256 --size "$size" \
        --msgs "$n" --json jsb.x >/dev/null 2>"$work/bench.err"; then
        record_failure "$what" "$side" "$rep" "fill: $(tr '\n' ' ' <"$work/bench.err")"
        stop_server || true
        rm -rf "$work/store"
        return 1
    fi
}

# cpu_since TICKS: the server's CPU seconds since TICKS.
cpu_since() {
    awk -v d=$(($(server_ticks) - $1)) -v h="$ticks" 'BEGIN { print d / h }'
}

# The three consumer rows of one payload size on one fill: appends msgs/s and server CPU.
consume_run() {
    local size=$1 n=$2 side=$3 rep=$4 s scen ssize flags t0 json
    filled_server "consume $size B" "$side" "$rep" "$size" "$n" || return
    for s in "${consume_scenarios[@]}"; do
        IFS='|' read -r scen ssize flags <<<"$s"
        [[ $ssize == "$size" ]] || continue
        t0=$(server_ticks)
        # shellcheck disable=SC2086 # flags are several words
        if json=$(timeout 120 "$natsctl" bench sub --js -s "$url" --stream JSB $flags --msgs "$n" \
            --json 2>"$work/bench.err"); then
            jq -r --arg cpu "$(cpu_since "$t0")" \
                '"msgs_per_s=\(.aggregate.sub.msgs_per_sec) srv_cpu_s=\($cpu)"' <<<"$json" \
                >>"$work/res/$scen.$side"
        else
            record_failure "$scen" "$side" "$rep" "bench: $(tr '\n' ' ' <"$work/bench.err")"
        fi
    done
    stop_server || record_failure "consume $size B" "$side" "$rep" "the server died during the run"
    rm -rf "$work/store"
}

# Redelivery of 100,000 expired messages, then the pending cost with 1,000 and 100,000 pending.
redeliver_run() {
    local side=$1 n t0 out
    n=$(count 100000)
    filled_server redelivery "$side" 1 16 "$n" || return
    t0=$(server_ticks)
    if out=$(timeout 300 "$jscons" redeliver "$srv_port" JSB jsb.x "$n" 2000 2>"$work/bench.err"); then
        echo "$out srv_cpu_s=$(cpu_since "$t0")" >>"$work/res/redeliver.$side"
    else
        record_failure redelivery "$side" 1 "$(tr '\n' ' ' <"$work/bench.err")"
    fi
    stop_server || record_failure redelivery "$side" 1 "the server died during the run"
    rm -rf "$work/store"
}

pending_run() {
    local side=$1 p out
    filled_server pending "$side" 1 16 $((pending_big + ops)) || return
    for p in 1000 "$pending_big"; do
        if out=$(timeout 600 "$jscons" pending "$srv_port" JSB jsb.x "$p" "$ops" 2>"$work/bench.err"); then
            echo "$out" >>"$work/res/pending$p.$side"
        else
            record_failure "pending $p" "$side" 1 "$(tr '\n' ' ' <"$work/bench.err")"
        fi
    done
    stop_server || record_failure pending "$side" 1 "the server died during the run"
    rm -rf "$work/store"
}

median() {
    local f=$work/res/$2.$3
    [[ -s $f ]] || { echo n/a; return; }
    sed -nE "s/.*(^| )$1=([^ ]+).*/\2/p" "$f" | sort -g |
        awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a" || b == 0) print "n/a"; else printf "%.2f", a / b }'
}

# cell VALUE [rate|cpu]: a rate as a whole number, CPU seconds to two decimals, anything else to one.
cell() {
    [[ $1 == n/a ]] && { echo "n/a"; return; }
    awk -v v="$1" -v k="${2:-}" 'BEGIN { if (k == "rate") printf "%.0f", v; else if (k == "cpu") printf "%.2f", v; else printf "%.1f", v }'
}

report_publish() {
    local s scen storage size flags n a b
    echo "Stream publish with PubAcks, \`natsctl bench pub --js\` as the client for both servers;"
    echo "each run a fresh server (\`-js -sd\`) and store. $reps repetition(s), medians; latency is"
    echo "publish to PubAck; server CPU is user+system seconds over the bench run."
    [[ -n $natsctl_note ]] && printf '\n**%s**: only nats-server was measured.\n' "$natsctl_note"
    echo
    echo "| scenario | msgs | natsctl msgs/s | nats-server msgs/s | ratio | natsctl p50/p99 µs | nats-server p50/p99 µs | natsctl CPU s | nats-server CPU s |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for s in "${scenarios[@]}"; do
        IFS='|' read -r scen storage size flags n <<<"$s"
        a=$(median msgs_per_s "$scen" natsctl)
        b=$(median msgs_per_s "$scen" nats-server)
        printf '| %s, %s B, %s | %s | %s | %s | %s | %s/%s | %s/%s | %s | %s |\n' "$storage" "$size" \
            "$flags" "$n" "$(cell "$a" rate)" "$(cell "$b" rate)" "$(ratio "$a" "$b")" \
            "$(cell "$(median p50_us "$scen" natsctl)")" "$(cell "$(median p99_us "$scen" natsctl)")" \
            "$(cell "$(median p50_us "$scen" nats-server)")" "$(cell "$(median p99_us "$scen" nats-server)")" \
            "$(cell "$(median srv_cpu_s "$scen" natsctl)")" "$(cell "$(median srv_cpu_s "$scen" nats-server)")"
    done
    echo
    echo "Store overhead: apparent bytes of the store directory per message, minus the payload,"
    echo "after the windowed file runs."
    echo
    echo "| payload | natsctl B/msg | nats-server B/msg |"
    echo "|---|---|---|"
    for scen in file16win file1kwin; do
        printf '| %s | %s | %s |\n' "${scen//[a-z]/}" "$(cell "$(median disk_extra "$scen" natsctl)")" \
            "$(cell "$(median disk_extra "$scen" nats-server)")"
    done | sed 's/^| 16 |/| 16 B |/; s/^| 1 |/| 1 KiB |/'
    echo
    echo "Core request-reply round trips (16 B, \`natsctl bench request\` and \`reply\`) on a JetStream"
    echo "server, alone and while \`bench pub --js --window 256\` fills a file stream with 1 KiB"
    echo "messages on the same server: what the stream's disk writes cost other clients."
    echo
    echo "| | natsctl p50/p99 µs | nats-server p50/p99 µs |"
    echo "|---|---|---|"
    for scen in alone beside beside_rate; do
        printf '| %s | %s/%s | %s/%s |\n' "$scen" \
            "$(cell "$(median p50_us "$scen" natsctl)")" "$(cell "$(median p99_us "$scen" natsctl)")" \
            "$(cell "$(median p50_us "$scen" nats-server)")" "$(cell "$(median p99_us "$scen" nats-server)")"
    done | sed "s/^| alone |/| alone |/; s/^| beside |/| beside a stream publisher |/;
        s/^| beside_rate |/| beside a publisher at $beside_rate msgs\/s |/"
    echo
    echo "Restart with $restart_mib MiB of 1 KiB messages in a file stream: seconds from exec until"
    echo "STREAM.INFO answers with every message."
    echo
    echo "| | natsctl | nats-server |"
    echo "|---|---|---|"
    printf '| after a clean stop | %s | %s |\n' "$(median clean_s restart natsctl)" "$(median clean_s restart nats-server)"
    printf '| after kill -9 | %s | %s |\n' "$(median kill9_s restart natsctl)" "$(median kill9_s restart nats-server)"
}

report_consume() {
    local s scen size flags n a b k
    echo "### Consumers"
    echo
    echo "\`natsctl bench sub --js\` reads a file stream of $consume_msgs16 messages of 16 B or"
    echo "$consume_msgs1k of 1 KiB through an ephemeral consumer (deliver all); each row a new consumer"
    echo "on one fill per size and repetition. $reps repetition(s), medians; msgs/s from the first"
    echo "message to the last (with explicit acks, to the PONG that follows the last ack); server CPU"
    echo "is user+system seconds over the read."
    echo
    echo "| scenario | msgs | natsctl msgs/s | nats-server msgs/s | ratio | natsctl CPU s | nats-server CPU s |"
    echo "|---|---|---|---|---|---|---|"
    for s in "${consume_scenarios[@]}"; do
        IFS='|' read -r scen size flags <<<"$s"
        n=$consume_msgs16
        [[ $size == 1024 ]] && n=$consume_msgs1k
        a=$(median msgs_per_s "$scen" natsctl)
        b=$(median msgs_per_s "$scen" nats-server)
        printf '| %s B, %s | %s | %s | %s | %s | %s | %s |\n' "$size" "${flags//--/}" "$n" \
            "$(cell "$a" rate)" "$(cell "$b" rate)" "$(ratio "$a" "$b")" \
            "$(cell "$(median srv_cpu_s "$scen" natsctl)" cpu)" \
            "$(cell "$(median srv_cpu_s "$scen" nats-server)" cpu)"
    done
    echo
    echo "Redelivery (jscons, libnats, one run): a pull consumer with ack_wait 2 s fetches"
    echo "$(count 100000) messages of 16 B without acking, waits until they expired, then fetches all of"
    echo "them again in batches of 1000; the first pass for comparison. Server CPU over the whole run."
    echo
    echo "| | natsctl msgs/s | nats-server msgs/s | ratio | natsctl CPU s | nats-server CPU s |"
    echo "|---|---|---|---|---|---|"
    for k in first_msgs_per_s redeliver_msgs_per_s; do
        a=$(median "$k" redeliver natsctl)
        b=$(median "$k" redeliver nats-server)
        printf '| %s | %s | %s | %s | %s | %s |\n' "${k%%_*}" "$(cell "$a" rate)" "$(cell "$b" rate)" \
            "$(ratio "$a" "$b")" "$(cell "$(median srv_cpu_s redeliver natsctl)" cpu)" \
            "$(cell "$(median srv_cpu_s redeliver nats-server)" cpu)"
    done | sed 's/^| first |/| first delivery |/; s/^| redeliver |/| redelivery after expiry |/'
    echo
    echo "Pending cost (jscons, one run): µs per operation, median/p99 of $ops of each kind, with 1,000 and"
    echo "with $pending_big messages pending on a durable pull consumer, on messages picked at random:"
    echo "CONSUMER.INFO, a -NAK (as a request) plus the fetch that brings the message back, an ack sent"
    echo "as a request. The ratios are of the medians."
    echo
    echo "| operation | natsctl 1k | natsctl ${pending_big} | ratio | nats-server 1k | nats-server ${pending_big} | ratio |"
    echo "|---|---|---|---|---|---|---|"
    for k in info_us nak_us ack_us; do
        local a1 a2 b1 b2
        a1=$(median "$k" pending1000 natsctl)
        a2=$(median "$k" "pending$pending_big" natsctl)
        b1=$(median "$k" pending1000 nats-server)
        b2=$(median "$k" "pending$pending_big" nats-server)
        printf '| %s | %s/%s | %s/%s | %s | %s/%s | %s/%s | %s |\n' "${k%_us}" \
            "$(cell "$a1")" "$(cell "$(median "${k%_us}_p99_us" pending1000 natsctl)")" \
            "$(cell "$a2")" "$(cell "$(median "${k%_us}_p99_us" "pending$pending_big" natsctl)")" \
            "$(ratio "$a2" "$a1")" \
            "$(cell "$b1")" "$(cell "$(median "${k%_us}_p99_us" pending1000 nats-server)")" \
            "$(cell "$b2")" "$(cell "$(median "${k%_us}_p99_us" "pending$pending_big" nats-server)")" \
            "$(ratio "$b2" "$b1")"
    done | sed 's/^| nak |/| nak + redelivery |/'
}

report() {
    echo
    echo "## JetStream"
    echo
    [[ $only != consume ]] && report_publish
    [[ -z $only ]] && echo
    [[ $only != publish ]] && report_consume
    if [[ -s $work/failures ]]; then
        echo
        echo "Failed runs:"
        echo
        cat "$work/failures"
    fi
}

# The sides in this repetition's order: the one that goes first alternates.
sides_for() {
    order=("${sides[@]}")
    (($1 % 2 == 0)) && mapfile -t order < <(printf '%s\n' "${sides[@]}" | tac)
    return 0
}

publish_part() {
    local rep s side
    for ((rep = 1; rep <= reps; rep++)); do
        for s in "${scenarios[@]}"; do
            IFS='|' read -r scen storage size flags n <<<"$s"
            sides_for "$rep"
            for side in "${order[@]}"; do
                log "$scen on $side (repetition $rep)"
                publish_run "$scen" "$storage" "$size" "$flags" "$n" "$side" "$rep"
            done
        done
    done
    for side in "${sides[@]}"; do
        log "request-reply beside a stream publisher on $side"
        beside_run "$side"
    done
    for side in "${sides[@]}"; do
        log "restart with $restart_mib MiB on $side"
        restart_run "$side"
    done
}

consume_part() {
    local rep side
    for ((rep = 1; rep <= reps; rep++)); do
        sides_for "$rep"
        for side in "${order[@]}"; do
            log "consumers, 16 B, on $side (repetition $rep)"
            consume_run 16 "$consume_msgs16" "$side" "$rep"
            log "consumers, 1 KiB, on $side (repetition $rep)"
            consume_run 1024 "$consume_msgs1k" "$side" "$rep"
        done
    done
    for side in "${sides[@]}"; do
        log "redelivery on $side"
        redeliver_run "$side"
        log "pending cost on $side"
        pending_run "$side"
    done
}

[[ $only != consume ]] && publish_part
[[ $only != publish ]] && consume_part
report
((failures == 0))
