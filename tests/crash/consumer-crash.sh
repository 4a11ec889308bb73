#!/usr/bin/env bash
# Crash test of a durable consumer: conspub fills a stream with N messages of known content, then
# reads it through a durable pull consumer (explicit acks, each sent with AckSync) while the server
# gets SIGKILL at random moments and restarts on the same store; after every restart the consumer
# carries on. conspub logs each delivery ("R IDX DELIVERED") and each confirmed ack ("A IDX").
# At the end: every message was received and acked (nothing lost), none was received again after
# its ack was confirmed (at-least-once, with no redelivery of what the server said it had; see
# CRASH_ACK_STRICT below for nats-server), and the consumer's own state agrees (ack floor N,
# nothing pending).
#
# Usage: consumer-crash.sh NATSCTL CONSPUB. Environment: CRASH_SERVER=natsctl (default) |
# nats-server, CRASH_ROUNDS (default 20), CRASH_MSGS (default 6000), CRASH_ACK_STRICT (default 1
# for natsctl, 0 for nats-server), CRASH_SEED (default: random; printed, so a failure can be
# replayed).
set -uo pipefail

natsctl=${1:?usage: consumer-crash.sh NATSCTL CONSPUB}
conspub=${2:?usage: consumer-crash.sh NATSCTL CONSPUB}
rounds=${CRASH_ROUNDS:-20}
msgs=${CRASH_MSGS:-6000}
seed=${CRASH_SEED:-$((RANDOM * 32768 + RANDOM))}
# The consumer sleeps this long per message so that it is still reading when the last kill comes.
pace_us=1000
# shellcheck source=tests/crash/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
crash_init consumer-crash "$natsctl"
log=$work/deliveries
RANDOM=$seed

cleanup() {
    crash_stop_server
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Consumer refusals end the test as a skip while natsctl's server has no consumers.
crash_first_start "$work/store"
if ! timeout 60 "$conspub" setup "$URL" CCRASH "$msgs" 2>"$work/setup.err"; then
    if grep -q 'consumers are not available' "$work/setup.err"; then
        echo "$suite($server): skipped: this $server has no consumers yet"
        exit 0
    fi
    die "setup failed: $(cat "$work/setup.err")"
fi
: >"$log"
for ((round = 1; round <= rounds; round++)); do
    timeout 30 "$conspub" consume "$URL" CCRASH "$log" "$pace_us" >"$work/consume.out" 2>&1 &
    cons=$!
    sleep "0.$((200 + RANDOM % 700))"
    crash_kill_server
    wait "$cons" || die "round $round: the consumer failed (seed $seed): $(cat "$work/consume.out")"
    grep -q 'lost-server' "$work/consume.out" ||
        die "round $round: the consumer finished before the kill; raise CRASH_MSGS (seed $seed)"
    crash_start_server "$work/store" || die "round $round: the server did not restart"
done
out=$(timeout 60 "$conspub" consume "$URL" CCRASH "$log" 0 2>&1) ||
    die "the last reading failed (seed $seed): $out"
[[ $out == *done ]] || die "the last reading did not finish: $out"
timeout 10 "$conspub" state "$URL" CCRASH "$msgs" || die "the consumer's state is wrong (seed $seed)"

# Offline check of the log: each index acked at least once, and none received after its ack was
# confirmed. An ack the server read and saved but could not confirm before the kill counts as an
# ack: its message is not delivered again (the state check above proves the server has it), so
# the log shows it sent ("S") after its last delivery, without "A". nats-server 2.9.10 writes a consumer's acks to disk from a flush loop (at most ~10
# times a second), so a kill -9 forgets the last confirmed acks and it sends them again: against
# it such redeliveries are counted, not failed (CRASH_ACK_STRICT=1 makes them fail there too).
strict=${CRASH_ACK_STRICT:-$([[ $server == natsctl ]] && echo 1 || echo 0)}
verdict=$(awk -v n="$msgs" -v strict="$strict" '
    $1 == "R" {
        delete sent[$2]
        if ($3 < 1) { print "index " $2 " delivered with count " $3; bad = 1; exit }
        if ($2 in acked) {
            if (strict) { print "index " $2 " delivered again after its ack was confirmed"; bad = 1; exit }
            again++
        }
        if ($3 > 1) redelivered++
    }
    $1 == "S" { sent[$2] = 1 }
    $1 == "A" { acked[$2] = 1 }
    END {
        if (bad) exit
        for (i = 1; i <= n; i++) {
            if (i in acked) continue
            if (!(i in sent)) { print "index " i " never acknowledged"; exit }
            unconfirmed++
        }
        printf "ok %d redelivered, %d after a confirmed ack, %d acked but unconfirmed\n",
            redelivered, again, unconfirmed
    }' "$log")
[[ $verdict == ok* ]] || die "$verdict (seed $seed)"
echo "consumer-crash($server): $rounds kill -9 rounds, $msgs messages each received and acked" \
    "(${verdict#ok }, strict $strict), $((SECONDS - started)) s, seed $seed"
