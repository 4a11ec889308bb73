#!/usr/bin/env bash
# Crash test of the file store: a publisher publishes with synchronous PubAcks and logs every ack,
# the server gets SIGKILL at a random moment, restarts on the same store, and crashpub then checks
# through the API (STREAM.MSG.GET) that every acknowledged message is there, once, with its content
# and sequence, and that sequences never go back across rounds. A round verifies what it can reach
# cheaply (the messages stored since the last check, and the stream's shape); after the last round
# the whole stream is read, then once more after a clean stop and restart.
#
# Usage: crash.sh NATSCTL CRASHPUB. Environment: CRASH_SERVER=natsctl (default) | nats-server,
# CRASH_ROUNDS (default 20), CRASH_SEED (default: random; printed, so a failure can be replayed).
set -uo pipefail

natsctl=${1:?usage: crash.sh NATSCTL CRASHPUB}
crashpub=${2:?usage: crash.sh NATSCTL CRASHPUB}
rounds=${CRASH_ROUNDS:-20}
seed=${CRASH_SEED:-$((RANDOM * 32768 + RANDOM))}
# shellcheck source=tests/crash/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
crash_init crash "$natsctl"
log=$work/acks
RANDOM=$seed

cleanup() {
    crash_stop_server
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Verifies from sequence $1 and sets from to the sequence after the last one checked.
verify_from() {
    local out
    out=$(timeout 60 "$crashpub" verify "$URL" CRASH "$log" "$1") ||
        die "verify from seq $1 failed (seed $seed)"
    last=$(sed -nE 's/^verified [0-9]+ acked, last ([0-9]+)$/\1/p' <<<"$out")
    [[ -n $last ]] || die "verify printed '$out'"
    from=$((last + 1))
}

crash_first_start "$work/store"
timeout 10 "$crashpub" create "$URL" CRASH || die "cannot create the stream"
: >"$log"
from=1
for ((round = 1; round <= rounds; round++)); do
    timeout 30 "$crashpub" publish "$URL" CRASH $((round * 1000000)) "$log" >"$work/pub.out" 2>&1 &
    pub=$!
    sleep "0.$((100 + RANDOM % 800))"
    crash_kill_server
    wait "$pub" || die "round $round: the publisher failed (seed $seed): $(cat "$work/pub.out")"
    crash_start_server "$work/store" || die "round $round: the server did not restart"
    verify_from "$from"
done
verify_from 1
crash_stop_server
crash_start_server "$work/store" || die "the server did not restart after a clean stop"
verify_from 1
acked=$(wc -l <"$log")
((acked > 0)) || die "nothing was acknowledged"
echo "crash($server): $rounds kill -9 rounds, $acked acked messages all present once with their" \
    "content and sequence (last seq $last), $((SECONDS - started)) s, seed $seed"
