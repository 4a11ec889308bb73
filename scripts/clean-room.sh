#!/usr/bin/env bash
# Proves the README's two commands on a fresh Debian 12: builds a minimal bookworm root with
# debootstrap (or reuses ROOT if it exists), clones this repository's HEAD into it, and runs
# `make test`, then `make run` until the broker answers a PING. Needs root and the Debian mirror.
#
# Usage: scripts/clean-room.sh [ROOT]     (default /var/tmp/natsctl-clean-room)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
root=${1:-/var/tmp/natsctl-clean-room}

if [[ ! -x $root/bin/bash ]]; then
    command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap </dev/null
    debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian
fi

mounts=(proc sys dev dev/pts)
cleanup() {
    local m
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        m=$root/${mounts[i]}
        mountpoint -q "$m" && umount -l "$m"
    done
    return 0
}
trap cleanup EXIT
mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"
mount -t devpts devpts "$root/dev/pts"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The host's own certificate authorities (a network that inspects TLS, as this one does) are part of
# its network setup like resolv.conf: ca-certificates adds them to the root's bundle when deps.sh
# installs it, and node is pointed at that bundle, as the host's node is.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi
# debootstrap writes no /etc/hosts, while every installed Debian system has one (the installer
# writes it): without it "localhost" does not resolve and the client's hostname test cannot pass.
[[ -e $root/etc/hosts ]] || printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
    >"$root/etc/hosts"

rm -rf "$root/root/natsctl"
git clone -q "$repo" "$root/root/natsctl"

# A minimal root has no make: installing it is the one step before the README's commands.
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root CI=true \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt bash -c '
    set -euo pipefail
    command -v make >/dev/null || { apt-get update -qq && apt-get install -y -qq make </dev/null; }
    cd /root/natsctl
    time make test </dev/null
    # Stopped by the PID it wrote: the chroot shares the process table of the host, so stopping
    # every process named natsctl would stop those of the host too.
    rm -f /tmp/natsctl.pid
    make run RUN_ARGS="-p 14222 -P /tmp/natsctl.pid" </dev/null >/tmp/run.log 2>&1 &
    for i in $(seq 600); do
        grep -q "listening on nats://" /tmp/run.log 2>/dev/null && break
        sleep 0.5
    done
    reply=$(printf "PING\r\n" | timeout 5 nc -N 127.0.0.1 14222 | tail -1 | tr -d "\r")
    [[ -s /tmp/natsctl.pid ]] && kill -INT "$(cat /tmp/natsctl.pid)" 2>/dev/null || true
    wait
    [[ $reply == PONG ]] || { cat /tmp/run.log; echo "make run: no PONG" >&2; exit 1; }
    echo "clean room: make test and make run passed"
'
