#!/usr/bin/env bats
# natsctl bench: every mode with small counts, exact counts in the JSON, natscli's CSV columns,
# loss detection with exit 1, PARTIAL results on Ctrl-C, and usage errors.

load helpers

teardown() {
    [[ -n ${BG_PID:-} ]] && { kill -TERM "$BG_PID" 2>/dev/null || true; wait "$BG_PID" 2>/dev/null || true; }
    BG_PID=
    stop_server
}

# wait_line FILE TEXT: waits up to 10 s for TEXT to appear in FILE.
wait_line() {
    local i
    for ((i = 0; i < 200; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "timed out waiting for '$2' in $1:" >&2
    cat "$1" >&2
    return 1
}

@test "pubsub --embedded needs nothing else running and counts every message exactly" {
    run --separate-stderr "$NATSCTL" bench pubsub --embedded --msgs 5000 --sub 2 --json
    [ "$status" -eq 0 ]
    [[ $stderr == "NOTE: the measured phase lasted "* ]]
    [ "$(jq -r '.aggregate.pub.msgs' <<<"$output")" = 5000 ]
    [ "$(jq -r '.aggregate.sub.msgs' <<<"$output")" = 10000 ]
    [ "$(jq -r '.clients | length' <<<"$output")" = 3 ]
    [ "$(jq -r '[.lost, .duplicates, .out_of_order, .errors] | add' <<<"$output")" = 0 ]
    [ "$(jq -r '.embedded' <<<"$output")" = true ]
    [ "$(jq -r '.latency_us.samples' <<<"$output")" = 10000 ]
    jq -e '.latency_us.p50 > 0 and .latency_us.p50 <= .latency_us.p99 and .latency_us.p99 <= .latency_us.max' <<<"$output"
}

@test "pub --embedded splits --msgs over the publishers" {
    run --separate-stderr "$NATSCTL" bench pub --embedded --clients 3 --msgs 1000 --size 16 --json
    [ "$status" -eq 0 ]
    [ "$(jq -c '[.clients[].msgs]' <<<"$output")" = "[334,333,333]" ]
    [ "$(jq -r '.aggregate.pub.bytes' <<<"$output")" = 16000 ]
}

@test "the human report states its units and lists every client" {
    run --separate-stderr "$NATSCTL" bench pubsub --embedded --msgs 2000 --sub 2
    [ "$status" -eq 0 ]
    [[ ${lines[0]} == "bench pubsub msgs=2000 receivers=2 senders=1 size=128 "* ]]
    [[ ${lines[0]} == *"embedded=yes"* ]]
    [[ $output == *"Pub stats: "*" msgs/s "*"MiB/s payload "*" wire"* ]]
    [[ $output == *" [1] "*"(2,000 msgs in "* ]]
    [[ $output == *" [2] "*"(2,000 msgs in "* ]]
    [[ $output == *" min "*" | avg "*" | max "*" | stddev "*" msgs/s"* ]]
    [[ $output == *"Latency (4000 samples): p50 "*" p99 "*" max "* ]]
    [[ $output != *WARNING* ]]
}

@test "--multisubject and -H still count every message exactly, and the wire bytes grow with the header" {
    run --separate-stderr "$NATSCTL" bench pubsub --embedded --msgs 1000 --multisubject --multisubject-max 7 --json
    [ "$status" -eq 0 ]
    [ "$(jq -r '.aggregate.sub.msgs' <<<"$output")" = 1000 ]
    local plain
    plain=$(jq -r '.clients[0].wire_bytes' <<<"$output")
    run --separate-stderr "$NATSCTL" bench pubsub --embedded --msgs 1000 --multisubject --multisubject-max 7 \
        -H 'Trace: abc' --json
    [ "$status" -eq 0 ]
    [ "$(jq -r '.aggregate.sub.msgs + .lost + .duplicates' <<<"$output")" = 1000 ]
    (($(jq -r '.clients[0].wire_bytes' <<<"$output") > plain))
}

@test "queue mode delivers each message once across the group" {
    run --separate-stderr "$NATSCTL" bench queue --embedded --sub 3 --msgs 3000 --json
    [ "$status" -eq 0 ]
    [ "$(jq -r '.aggregate.sub.msgs' <<<"$output")" = 3000 ]
    [ "$(jq -r '.aggregate.sub.clients' <<<"$output")" = 3 ]
    [ "$(jq -r '.lost + .duplicates' <<<"$output")" = 0 ]
}

@test "queue mode counts exactly with payloads too small to carry a sequence" {
    run --separate-stderr "$NATSCTL" bench queue --embedded --sub 2 --msgs 2000 --size 8 --json
    [ "$status" -eq 0 ]
    [ "$(jq -r '.aggregate.sub.msgs' <<<"$output")" = 2000 ]
}

@test "request --embedded measures round trips against an in-process replier" {
    run --separate-stderr "$NATSCTL" bench request --embedded --clients 2 --msgs 400 --json
    [ "$status" -eq 0 ]
    [ "$(jq -r '.aggregate.req.msgs' <<<"$output")" = 400 ]
    [ "$(jq -r '.aggregate.rep.msgs' <<<"$output")" = 400 ]
    [ "$(jq -r '.latency_us.samples' <<<"$output")" = 400 ]
}

@test "sub and pub in two processes meet through a server" {
    start_server
    "$NATSCTL" bench sub -s "127.0.0.1:$PORT" --clients 2 --msgs 3000 --json \
        >"$BATS_TEST_TMPDIR/sub.json" 2>"$BATS_TEST_TMPDIR/sub.err" 3>&- &
    BG_PID=$!
    wait_line "$BATS_TEST_TMPDIR/sub.err" "Waiting for messages"
    run --separate-stderr "$NATSCTL" bench pub -s "127.0.0.1:$PORT" --msgs 3000 --json
    [ "$status" -eq 0 ]
    local rc=0
    wait "$BG_PID" || rc=$?
    BG_PID=
    [ "$rc" -eq 0 ]
    [ "$(jq -r '.aggregate.sub.msgs' "$BATS_TEST_TMPDIR/sub.json")" = 6000 ]
}

@test "reply serves another process's requests and stops after --msgs" {
    start_server
    "$NATSCTL" bench reply -s "127.0.0.1:$PORT" --clients 2 --msgs 500 --json \
        >"$BATS_TEST_TMPDIR/rep.json" 2>"$BATS_TEST_TMPDIR/rep.err" 3>&- &
    BG_PID=$!
    wait_line "$BATS_TEST_TMPDIR/rep.err" "Waiting for requests"
    run --separate-stderr "$NATSCTL" bench request -s "127.0.0.1:$PORT" --msgs 500 --json
    [ "$status" -eq 0 ]
    local rc=0
    wait "$BG_PID" || rc=$?
    BG_PID=
    [ "$rc" -eq 0 ]
    [ "$(jq -r '.aggregate.rep.msgs' "$BATS_TEST_TMPDIR/rep.json")" = 500 ]
}

@test "--csv writes natscli's columns and one row per client" {
    run --separate-stderr "$NATSCTL" bench request --embedded --msgs 100 --csv "$BATS_TEST_TMPDIR/r.csv"
    [ "$status" -eq 0 ]
    run cat "$BATS_TEST_TMPDIR/r.csv"
    [[ ${lines[0]} == "#RunID, ClientID, MsgCount, MsgBytes, MsgsPerSec, BytesPerSec, DurationSecs, P50LatencyMicroSecs,"* ]]
    [ "${#lines[@]}" -eq 3 ]
    [[ ${lines[1]} == *", R1, 100, 12800, "* ]]
    [[ ${lines[2]} == *", E1, 100, "* ]]
}

@test "a subscriber cut as a slow consumer is reported with a WARNING and exit 1" {
    printf 'max_pending: 8KB\nmax_payload: 4KB\n' >"$BATS_TEST_TMPDIR/small.conf"
    start_server -c "$BATS_TEST_TMPDIR/small.conf"
    run --separate-stderr "$NATSCTL" bench pubsub -s "127.0.0.1:$PORT" --size 1KiB --msgs 5000
    [ "$status" -eq 1 ]
    [[ $output == *"WARNING: "*" messages lost"* ]]
    [[ $output == *"WARNING: 1 client errors or disconnects"* ]]
    [[ $stderr == *"client S1: disconnected"* ]]
}

@test "--throughput paces publishing and --duration ends the run" {
    run --separate-stderr "$NATSCTL" bench pubsub --embedded --throughput 2000 --duration 500ms --json
    [ "$status" -eq 0 ]
    local n
    n=$(jq -r '.aggregate.pub.msgs' <<<"$output")
    ((n >= 900 && n <= 1100)) || { echo "published $n"; return 1; }
    [ "$(jq -r '.aggregate.sub.msgs' <<<"$output")" = "$n" ]
}

# interrupted_bench ARGS...: runs natsctl bench ARGS, sends Ctrl-C after half a second, checks
# the exit status is 130 and leaves what it printed in $output and $lines.
interrupted_bench() {
    "$NATSCTL" bench "$@" >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
    BG_PID=$!
    sleep 0.5
    kill -INT "$BG_PID"
    local rc=0
    wait "$BG_PID" || rc=$?
    BG_PID=
    [ "$rc" -eq 130 ]
    run cat "$BATS_TEST_TMPDIR/out"
}

@test "Ctrl-C prints the partial results marked PARTIAL and exits 130" {
    interrupted_bench pubsub --embedded --throughput 1000 --duration 30s
    [[ ${lines[0]} == "PARTIAL bench pubsub "* ]]
    [[ $output == *"Pub stats: "* ]]
}

@test "progress goes to stderr only when it is a terminal" {
    run --separate-stderr "$NATSCTL" bench pub --embedded --throughput 1000 --duration 400ms
    [ "$status" -eq 0 ]
    [[ $stderr != *"sent "* ]]
    run script -qec "$NATSCTL bench pub --embedded --throughput 1000 --duration 400ms" /dev/null
    [ "$status" -eq 0 ]
    [[ $output == *"sent "*" received "* ]]
    run script -qec "$NATSCTL bench pub --embedded --throughput 1000 --duration 400ms --no-progress" /dev/null
    [[ $output != *"sent "*" received "* ]]
}

@test "a request nobody answers is a client error with exit 1" {
    start_server
    run --separate-stderr "$NATSCTL" bench request -s "127.0.0.1:$PORT" --msgs 10
    [ "$status" -eq 1 ]
    [[ $stderr == *"no responders"* ]]
    [[ $output == *"WARNING: 1 client errors or disconnects"* ]]
}

@test "an unreachable server exits 3 with one line that says why" {
    run --separate-stderr "$NATSCTL" bench pub -s 127.0.0.1:1 --msgs 10
    [ "$status" -eq 3 ]
    [ "$(wc -l <<<"$stderr")" -eq 1 ]
    [[ $stderr == *"127.0.0.1:1 (from -s): connection refused"* ]]
}

@test "bad flags and modes are usage errors with exit 2" {
    local args
    for args in "pubsub --bogus" "nosuchmode" "pub --size abc" "pub --msgs 0" "sub --embedded" \
        "pub --duration never" "pub --clients -1" "" "pub a.* "; do
        # shellcheck disable=SC2086 # word splitting is the point
        run --separate-stderr "$NATSCTL" bench $args
        [ "$status" -eq 2 ] || { echo "bench $args: exit $status"; return 1; }
        [ "$(wc -l <<<"$stderr")" -eq 1 ]
    done
}

@test "without --msgs or --duration the sending modes run for 5 seconds, receive-only ones expect 100000" {
    interrupted_bench pub --embedded
    [[ ${lines[0]} == "PARTIAL bench pub duration_ms=5000 "* ]]
    run "$NATSCTL" bench sub --help
    [[ $output == *"default: sub and reply 100000, other modes run --duration 5s"* ]]
}

@test "a measured phase under a second prints a NOTE on stderr and still exits 0" {
    run --separate-stderr "$NATSCTL" bench pub --embedded --msgs 1000
    [ "$status" -eq 0 ]
    [[ $stderr =~ ^NOTE:\ the\ measured\ phase\ lasted\ 0\.[0-9]{3}s\;\ figures\ from\ under\ a\ second\ are\ unreliable ]]
    one_line "$stderr"
    [[ $output == "bench pub "* && $output != *NOTE* ]]
    run --separate-stderr "$NATSCTL" bench pub --embedded --throughput 2000 --duration 1100ms
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
}

@test "a --size over the server's max_payload is refused before the run with exit 6 and the numbers" {
    printf 'max_payload: 1024\n' >"$BATS_TEST_TMPDIR/small.conf"
    start_server -c "$BATS_TEST_TMPDIR/small.conf"
    run --separate-stderr "$NATSCTL" bench pub -s "127.0.0.1:$PORT" --size 2000 --msgs 10
    [ "$status" -eq 6 ]
    [ -z "$output" ]
    [ "$stderr" = "natsctl bench: --size 2000: payload 2000 bytes > max_payload 1024" ]
    run --separate-stderr "$NATSCTL" bench request -s "127.0.0.1:$PORT" --size 1000 -H 'K:vvvvvvvvvvvvvvvvvvvvvvvvvv' --msgs 10
    [ "$status" -eq 6 ]
    [[ $stderr == "natsctl bench: --size 1000: payload "*" bytes (headers included) > max_payload 1024" ]]
}

@test "--csv leaves the latency columns empty in publisher rows" {
    run --separate-stderr "$NATSCTL" bench pubsub --embedded --msgs 500 --csv "$BATS_TEST_TMPDIR/p.csv"
    [ "$status" -eq 0 ]
    run cat "$BATS_TEST_TMPDIR/p.csv"
    [ "${#lines[@]}" -eq 3 ]
    [[ ${lines[1]} =~ ^[0-9]+,\ P1,\ 500,\ 64000,\ [0-9]+,\ [0-9]+,\ [0-9.]+,,,,,$ ]]
    [[ ${lines[2]} =~ ^[0-9]+,\ S1,\ 500,\ 64000(,\ [0-9.]+){8}$ ]]
}

@test "a --csv path that cannot be written is refused before the run with exit 2" {
    run --separate-stderr "$NATSCTL" bench pub --embedded --msgs 10 --csv /nonexistent/dir/r.csv
    [ "$status" -eq 2 ]
    [ -z "$output" ]
    [ "$stderr" = "natsctl bench: cannot write --csv /nonexistent/dir/r.csv: No such file or directory" ]
}

@test "--json gives the parameters as numbers and the embedded broker as natsctl's own version" {
    run --separate-stderr "$NATSCTL" bench pubsub --embedded --msgs 100 --throughput 100000 --json
    [ "$status" -eq 0 ]
    [ "$(jq -c '.params' <<<"$output")" = '{"senders":1,"receivers":1,"msgs":100,"size":128,"subject":"natsctl.bench","throughput":100000}' ]
    [ "$(jq -r .broker <<<"$output")" = "$("$NATSCTL" version)" ]
}
