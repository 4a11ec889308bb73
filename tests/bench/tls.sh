#!/usr/bin/env bash
# TLS and permission cost: natsctl server against nats-server 2.9.10 with the same client and the
# same certificates. A markdown section for docs/benchmarks.md on stdout (bench.sh includes it;
# `make bench-tls` runs it alone); progress on stderr.
#
# usage: tests/bench/tls.sh NATSCTL
#
# - TLS: one publisher to one subscriber over TLS, 16 B and 1 KiB, both servers with
#   --tls --tlscert --tlskey (an ECDSA P-256 certificate made with openssl in a temp directory).
#   The client is `natsctl bench pubsub` with --tlsca (loadgen speaks no TLS).
# - Permissions: the same traffic in plaintext, 16 B, by a user whose permissions hold 100 publish
#   and 100 subscribe allow patterns (99 wildcard patterns that do not match plus the subject used),
#   against the same user without permissions; both servers run the same configuration file.
#
# Server CPU is user+system from /proc/PID/stat across the client's run, per message delivered
# (this machine has no hardware counters for `perf stat`, so no instruction counts). Every run
# starts a fresh server on 127.0.0.1 with a free port; the two servers alternate and the one going
# first swaps every repetition; medians are reported. Environment: BENCH_REPS=3 (TLS rows),
# BENCH_PERM_REPS=5 (permission rows: their difference is small beside this machine's noise),
# BENCH_SCALE=1. Exit status 0, or 1 when a run failed (the section lists it), 2 on usage.
set -euo pipefail

if [[ $# != 1 || ! -x $1 ]]; then
    echo "usage: $0 NATSCTL" >&2
    exit 2
fi
natsctl=$(realpath "$1")
cd "$(dirname "$0")/../.."
ref=$PWD/.deps/nats-server/usr/sbin/nats-server
[[ -x $ref ]] || scripts/deps.sh >&2
reps=${BENCH_REPS:-3}
perm_reps=${BENCH_PERM_REPS:-5}
scale=${BENCH_SCALE:-1}
ticks=$(getconf CLK_TCK)
subject=bench.perm.subject

work=$(mktemp -d /tmp/bench-tls.XXXXXX)
mkdir -p "$work/ports" "$work/res"
srv_pid=
failures=0

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
    printf 'bench-tls: %s\n' "$*" >&2
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

# A CA and a server certificate for 127.0.0.1, both ECDSA P-256.
make_certs() {
    local d=$work/tls
    mkdir -p "$d"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=bench-ca -keyout "$d/ca-key.pem" -out "$d/ca.pem" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
        -keyout "$d/key.pem" -out "$d/srv.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\n' >"$d/ext"
    openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" -CAcreateserial \
        -days 2 -extfile "$d/ext" -out "$d/cert.pem" 2>/dev/null
}

# The 99 patterns that never match the benchmark's subject, then the subject itself.
perm_patterns() {
    local i
    for ((i = 0; i < 33; i++)); do
        printf '"svc%d.*", "*.orders%d.>", "app.%d.*.events", ' "$i" "$i" "$i"
    done
    printf '"%s"' "$subject"
}

# Two configurations, the same user with and without 100+100 allow patterns.
make_configs() {
    local pats
    pats=$(perm_patterns)
    cat >"$work/noperm.conf" <<EOF
authorization { users = [ { user: bench, password: bench } ] }
EOF
    cat >"$work/perm.conf" <<EOF
authorization {
  users = [
    { user: bench, password: bench,
      permissions: { publish: { allow: [ $pats ] }, subscribe: { allow: [ $pats ] } } }
  ]
}
EOF
}

# start SIDE ARGS...: natsctl server or nats-server with ARGS.
start() {
    local side=$1 bin=$ref
    shift
    [[ $side == natsctl ]] && bin="$natsctl server"
    # shellcheck disable=SC2086 # bin is "natsctl server" for natsctl
    launch_server "$work/$side.log" $bin "$@"
}

# run SCEN SIDE REP SERVER_ARGS -- CLIENT_ARGS: one natsctl bench pubsub against a fresh server;
# appends msgs_per_s, srv_cpu_s, cli_cpu_s and msgs to res/SCEN.SIDE.
run() {
    local scen=$1 side=$2 rep=$3 sargs=() t0 t1 json
    shift 3
    while [[ $1 != -- ]]; do
        sargs+=("$1")
        shift
    done
    shift
    start "$side" "${sargs[@]}" || { fail "$scen, $side, repetition $rep: server did not start"; return; }
    t0=$(server_ticks)
    if json=$(timeout 120 /usr/bin/time -f 'cli_cpu_s=%U+%S' -o "$work/time" \
        "$natsctl" bench pubsub "$subject" --json --no-progress "$@" \
        -s "$(url_for "$scen")" 2>"$work/cli.err"); then
        t1=$(server_ticks)
        jq -r --arg cpu "$(awk -v d=$((t1 - t0)) -v h="$ticks" 'BEGIN { print d / h }')" \
            --arg cli "$(sed -n 's/^cli_cpu_s=//p' "$work/time" | awk -F+ '{ print $1 + $2 }')" \
            '"msgs_per_s=\(.aggregate.sub.msgs_per_sec) msgs=\(.aggregate.sub.msgs) " +
             "srv_cpu_s=\($cpu) cli_cpu_s=\($cli) secs=\(.aggregate.sub.secs)"' <<<"$json" \
            >>"$work/res/$scen.$side"
    else
        fail "$scen, $side, repetition $rep: natsctl bench: $(grep -v '^NOTE' "$work/cli.err" | tr '\n' ' ')"
    fi
    stop_server || fail "$scen, $side, repetition $rep: the server died during the run"
}

url_for() {
    if [[ $1 == tls* ]]; then echo "tls://127.0.0.1:$srv_port"; else echo "nats://127.0.0.1:$srv_port"; fi
}

sides_for() {
    if (($1 % 2)); then echo natsctl nats-server; else echo nats-server natsctl; fi
}

run_tls() {
    local size=$1 n=$2 rep side d=$work/tls
    log "TLS pub to 1 subscriber, $size B, $n msgs ($reps repetitions)"
    for ((rep = 1; rep <= reps; rep++)); do
        for side in $(sides_for "$rep"); do
            run "tls$size" "$side" "$rep" --tls --tlscert "$d/cert.pem" --tlskey "$d/key.pem" -- \
                --tlsca "$d/ca.pem" --size "$size" --msgs "$n"
        done
    done
}

run_perm() {
    local n=$1 rep side conf
    log "permissions: 100+100 patterns against none, 16 B, $n msgs ($perm_reps repetitions)"
    for ((rep = 1; rep <= perm_reps; rep++)); do
        for side in $(sides_for "$rep"); do
            # the two configurations swap order with the servers
            for conf in $( ((rep % 2)) && echo noperm perm || echo perm noperm); do
                run "$conf" "$side" "$rep" -c "$work/$conf.conf" -- \
                    --user bench --password bench --size 16 --msgs "$n"
            done
        done
    done
}

# Instructions natsctl server executes per message under valgrind --tool=cachegrind (no cache
# simulation): the difference between a run of 2N and one of N messages, over N, so start-up and
# connection setup cancel out. This machine's CPU time is noisy beside a 5 % difference; these
# counts are not. Appends ir_per_msg to res/ir.CONF.
ir_run() {
    local conf=$1 n=$2 k ir=() out
    for k in 1 2; do
        out=$work/cg.$conf.$k
        launch_server "$work/valgrind.log" valgrind --tool=cachegrind --cache-sim=no \
            --cachegrind-out-file="$out" "$natsctl" server -c "$work/$conf.conf" ||
            { fail "instructions, $conf: the server did not start under valgrind"; return; }
        if ! timeout 120 "$natsctl" bench pubsub "$subject" --no-progress --user bench \
            --password bench --size 16 --msgs $((n * k)) -s "nats://127.0.0.1:$srv_port" \
            >/dev/null 2>"$work/cli.err"; then
            fail "instructions, $conf: natsctl bench: $(grep -v '^NOTE' "$work/cli.err" | tr '\n' ' ')"
            stop_server || true
            return
        fi
        stop_server || true
        ir+=("$(sed -n 's/^summary: *//p' "$out")")
    done
    awk -v a="${ir[0]}" -v b="${ir[1]}" -v n="$n" 'BEGIN { printf "ir_per_msg=%.1f\n", (b - a) / n }' \
        >>"$work/res/ir.$conf"
}

run_ir() {
    local n=$1 conf
    if ! command -v valgrind >/dev/null; then
        log "no valgrind: no instruction counts"
        return
    fi
    log "instructions per message under cachegrind, natsctl, $n and $((2 * n)) msgs"
    for conf in noperm perm; do
        ir_run "$conf" "$n"
    done
}

# median KEY SCEN SIDE, of KEY/msgs when KEY ends in _cpu_s (then in microseconds per message).
median() {
    local file=$work/res/$2.$3
    [[ -s $file ]] || { echo n/a; return; }
    awk -v k="$1" '{
            for (i = 1; i <= NF; i++) {
                split($i, kv, "=")
                f[kv[1]] = kv[2]
            }
            if (k ~ /_cpu_s$/) print f[k] / f["msgs"] * 1e6; else print f[k]
        }' "$file" | sort -g | awk '{ v[NR] = $1 } END {
            if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2];
            else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

values() {
    local file=$work/res/$2.$3
    [[ -s $file ]] || { echo "-"; return; }
    awk -v k="$1" '{
            for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) v = substr($i, length(k) + 2)
            printf "%s%s", sep, k == "msgs_per_s" ? sprintf("%.0f", v) : v
            sep = ", "
        } END { print "" }' "$file"
}

# "yes" when SIDE's server CPU per message with and without permissions overlap over the runs.
overlap() {
    local f1=$work/res/noperm.$1 f2=$work/res/perm.$1
    [[ -s $f1 && -s $f2 ]] || { echo n/a; return; }
    awk '
        FNR == 1 { f++ }
        {
            for (i = 1; i <= NF; i++) {
                split($i, kv, "=")
                x[kv[1]] = kv[2]
            }
            v = x["srv_cpu_s"] / x["msgs"]
        }
        !(f in lo) || v < lo[f] { lo[f] = v }
        !(f in hi) || v > hi[f] { hi[f] = v }
        END { print (hi[1] >= lo[2] && hi[2] >= lo[1]) ? "yes" : "no" }' "$f1" "$f2"
}

fmt() {
    [[ $2 == n/a ]] && { echo n/a; return; }
    case $1 in
    rate) awk -v v="$2" 'BEGIN { printf "%.3f M", v / 1e6 }' ;;
    us) awk -v v="$2" 'BEGIN { printf "%.3f", v }' ;;
    esac
}

ratio() {
    [[ $1 == n/a || $2 == n/a ]] && { echo n/a; return; }
    awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2fx", a / b }'
}

overhead() {
    [[ $1 == n/a || $2 == n/a ]] && { echo n/a; return; }
    awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%+.1f %%", (a / b - 1) * 100 }'
}

# met when either TLS bar holds: msgs/s ratio MSGS >= 1.5 or CPU ratio CPU <= 0.6
tls_verdict() {
    [[ $1 == n/a || $2 == n/a ]] && { echo "no data"; return; }
    if awk -v m="${1%x}" -v c="${2%x}" 'BEGIN { exit !(m >= 1.5 || c <= 0.6) }'; then
        echo met
    else
        echo MISSED
    fi
}

# bar TEXT VALUE OP LIMIT (VALUE like "0.42x" or "+3.0 %")
bar() {
    local v=${2%x}
    v=${v% %}
    if [[ $2 == n/a ]]; then
        printf '| %s | n/a | no data |\n' "$1"
    elif awk -v v="$v" -v l="$4" -v op="$3" 'BEGIN { exit !(op == ">=" ? v >= l : op == "<=" ? v <= l : v < l) }'; then
        printf '| %s | %s | met |\n' "$1" "$2"
    else
        printf '| %s | %s | MISSED |\n' "$1" "$2"
    fi
}

report() {
    local s n m nc mc np mp
    cat <<EOF

## TLS and permissions

\`tests/bench/tls.sh\` (\`make bench-tls\` alone). The client is \`natsctl bench pubsub\` (one
publisher, one subscriber, one process) for both servers: loadgen speaks no TLS. Server CPU is
user+system from /proc/PID/stat over the client's run, in µs per message delivered; client CPU the
same for the bench process. Load average at the start: $load0; at the end: $(cut -d' ' -f1-3 /proc/loadavg).
Median of $reps (TLS) and $perm_reps (permissions) runs.

### Pub to one subscriber over TLS

Both servers with \`--tls --tlscert --tlskey\` (ECDSA P-256); the client with \`tls://\` and
\`--tlsca\`. TLS 1.3 with AES-128-GCM on both (what each negotiates by default with this client,
as /connz shows).

| payload | natsctl msgs/s | nats-server msgs/s | ratio | server µs/msg natsctl | nats-server | ratio | client µs/msg natsctl / nats-server |
|---|---:|---:|---:|---:|---:|---:|---:|
EOF
    for s in 16 1024; do
        n=$(median msgs_per_s "tls$s" natsctl)
        m=$(median msgs_per_s "tls$s" nats-server)
        nc=$(median srv_cpu_s "tls$s" natsctl)
        mc=$(median srv_cpu_s "tls$s" nats-server)
        printf '| %s B | %s | %s | %s | %s | %s | %s | %s / %s |\n' "$s" "$(fmt rate "$n")" \
            "$(fmt rate "$m")" "$(ratio "$n" "$m")" "$(fmt us "$nc")" "$(fmt us "$mc")" \
            "$(ratio "$nc" "$mc")" "$(fmt us "$(median cli_cpu_s "tls$s" natsctl)")" \
            "$(fmt us "$(median cli_cpu_s "tls$s" nats-server)")"
    done
    cat <<EOF

### Permissions: 100 publish and 100 subscribe allow patterns

Plaintext, 16 B, user \`bench\` with a password on both sides; \`perm\` gives the user 100 publish
and 100 subscribe allow patterns (\`svcN.*\`, \`*.ordersN.>\`, \`app.N.*.events\` for N < 33, and
\`$subject\`, the one subject used), \`none\` gives it no permissions.

| server | msgs/s none | msgs/s perm | server µs/msg none | server µs/msg perm | CPU overhead | CPU ranges overlap |
|---|---:|---:|---:|---:|---:|---|
EOF
    for s in natsctl nats-server; do
        np=$(median srv_cpu_s noperm "$s")
        mp=$(median srv_cpu_s perm "$s")
        printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$s" "$(fmt rate "$(median msgs_per_s noperm "$s")")" \
            "$(fmt rate "$(median msgs_per_s perm "$s")")" "$(fmt us "$np")" "$(fmt us "$mp")" \
            "$(overhead "$mp" "$np")" "$(overlap "$s")"
    done
    cat <<EOF

"CPU ranges overlap" says whether the slowest-to-fastest ranges of server CPU per message with and
without permissions overlap: then the CPU overhead is within this machine's noise, and the
instruction count below is the measure to trust.
EOF
    np=$(median ir_per_msg ir noperm)
    mp=$(median ir_per_msg ir perm)
    cat <<EOF

Instructions natsctl executes per message (\`valgrind --tool=cachegrind --cache-sim=no\`, the
difference between runs of $((2 * ir_n)) and $ir_n messages, over $ir_n; nats-server, a Go
program, is not run under valgrind): none $np, perm $mp, overhead $(overhead "$mp" "$np").
EOF
    cat <<EOF

### Bars (issue 14)

| bar | value | |
|---|---:|---|
EOF
    for s in 16 1024; do
        n=$(ratio "$(median msgs_per_s "tls$s" natsctl)" "$(median msgs_per_s "tls$s" nats-server)")
        m=$(ratio "$(median srv_cpu_s "tls$s" natsctl)" "$(median srv_cpu_s "tls$s" nats-server)")
        printf '| TLS pub→1 sub, %s B: msgs/s at least 1.5x, or server CPU per message at most 0.6x | %s, %s | %s |\n' \
            "$s" "$n" "$m" "$(tls_verdict "$n" "$m")"
    done
    bar "100+100 permission patterns: server CPU per message under +5 %" \
        "$(overhead "$(median srv_cpu_s perm natsctl)" "$(median srv_cpu_s noperm natsctl)")" "<" 5
    bar "100+100 permission patterns: instructions per message under +5 %" \
        "$(overhead "$(median ir_per_msg ir perm)" "$(median ir_per_msg ir noperm)")" "<" 5
    cat <<EOF

Every run (msgs/s; server CPU s; messages):

| scenario | server | msgs/s | server CPU s | client CPU s |
|---|---|---|---|---|
EOF
    for n in tls16 tls1024 noperm perm; do
        for s in natsctl nats-server; do
            printf '| %s | %s | %s | %s | %s |\n' "$n" "$s" "$(values msgs_per_s "$n" "$s")" \
                "$(values srv_cpu_s "$n" "$s")" "$(values cli_cpu_s "$n" "$s")"
        done
    done
    if [[ -s $work/failures ]]; then
        printf '\nFailed runs:\n\n'
        cat "$work/failures"
    fi
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
make_certs
make_configs
run_tls 16 "$(count 3000000)"
run_tls 1024 "$(count 1000000)"
run_perm "$(count 4000000)"
ir_n=$(count 200000)
run_ir "$ir_n"
report
((failures == 0))
