#!/usr/bin/env bash
# The file store on a full disk: the store directory is a small tmpfs. A stream FULL gets some
# acknowledged messages, then a second stream HOG is published to until the server refuses with an
# error PubAck (err_code 10023, "insufficient resources"); a publish to FULL must be refused the
# same way, core pub/sub must keep working, and FULL's acknowledged messages must be intact.
# Deleting HOG gives the space back: publishing to FULL works again, and everything acknowledged
# survives a restart.
#
# A second phase fills the disk behind the server's back (a file written beside the store) so that
# the writes themselves fail with ENOSPC. nats-server 2.9.10 does not pass it: it reserves 75% of
# the disk at startup and refuses at that limit, but on a real ENOSPC it never answers the publish,
# disables JetStream and then ignores SIGTERM. So the phase runs for natsctl and, for nats-server,
# only with FULLDISK_ENOSPC=1.
#
# Needs root for mount; skips (exit 0) otherwise. Usage: fulldisk.sh NATSCTL CRASHPUB, with
# CRASH_SERVER=natsctl (default) | nats-server.
set -uo pipefail

natsctl=${1:?usage: fulldisk.sh NATSCTL CRASHPUB}
crashpub=${2:?usage: fulldisk.sh NATSCTL CRASHPUB}
# shellcheck source=tests/crash/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
crash_init fulldisk "$natsctl"
store=$work/store
log=$work/acks
mounted=0

cleanup() {
    crash_stop_server
    ((mounted)) && umount "$store"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ((EUID != 0)); then
    echo "fulldisk($server): skipped: mounting a tmpfs needs root"
    exit 0
fi
mkdir -p "$store"
if ! mount -t tmpfs -o size=2m fulldisk "$store" 2>"$work/mount.err"; then
    echo "fulldisk($server): skipped: cannot mount a tmpfs: $(cat "$work/mount.err")"
    exit 0
fi
mounted=1

# pub STREAM FIRST LOG [N]: publishes; sets acked and code (the err_code that stopped it, or 0).
pub() {
    local out
    out=$(timeout 30 "$crashpub" publish "$URL" "$@" 2>"$work/pub.err") ||
        die "publish to $1 failed: $(cat "$work/pub.err")"
    read -r _ acked _ code _ <<<"$out"
}

# expect_full STREAM FIRST WHEN: publishes until refused, which must be with 10023.
expect_full() {
    local to=$log
    [[ $1 == FULL ]] || to=$work/$1.acks
    pub "$1" "$2" "$to"
    ((code == 10023)) ||
        die "$3: publish to $1 stopped with err_code $code ($(cat "$work/pub.err")), want 10023"
}

verify() {
    timeout 30 "$crashpub" verify "$URL" FULL "$log" 1 >/dev/null || die "$1: FULL is not intact"
}

expect_core() {
    timeout 10 "$crashpub" core "$URL" || die "$1: core pub/sub stopped working"
}

crash_first_start "$store"
timeout 10 "$crashpub" create "$URL" FULL || die "cannot create FULL"
timeout 10 "$crashpub" create "$URL" HOG || die "cannot create HOG"
pub FULL 1 "$log" 200
((acked == 200 && code == 0)) || die "the first 200 messages were not all acknowledged"
expect_full HOG 1000000 "the disk filling up"
hog=$acked
expect_full FULL 2000 "a full disk"
expect_core "a full disk"
verify "a full disk"
timeout 10 "$crashpub" delete "$URL" HOG || die "cannot delete HOG"
pub FULL 3000 "$log" 50
((acked == 50 && code == 0)) || die "publishing did not resume once HOG was deleted"
crash_stop_server
crash_start_server "$store" || die "the server did not restart"
verify "a restart"
summary="refused at the limit after $hog HOG messages with 10023, served core meanwhile,"
summary+=" resumed after HOG was deleted, $(wc -l <"$log") acked FULL messages intact"

if [[ $server == natsctl || ${FULLDISK_ENOSPC:-0} == 1 ]]; then
    dd if=/dev/zero of="$store/filler" bs=4k 2>/dev/null
    expect_full FULL 4000 "ENOSPC"
    expect_core "ENOSPC"
    verify "ENOSPC"
    rm -f "$store/filler"
    pub FULL 5000 "$log" 50
    ((acked == 50 && code == 0)) || die "publishing did not resume once the disk had space"
    verify "space returned after ENOSPC"
    summary+="; ENOSPC: refused with 10023 and resumed"
else
    summary+="; ENOSPC phase not run (nats-server 2.9.10 hangs there; FULLDISK_ENOSPC=1 runs it)"
fi
echo "fulldisk($server): $summary, $((SECONDS - started)) s"
