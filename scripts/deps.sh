#!/usr/bin/env bash
# Installs what natsctl needs to build and test on Debian 12, then fetches the reference nats-server
# binary into .deps/ without installing the package (the package would start a system service on
# port 4222). As root it runs apt-get; otherwise it prints the exact command and fails.
set -euo pipefail
cd "$(dirname "$0")/.."

# libcrypt-dev (libxcrypt) has the bcrypt of the glibc build. musl-tools, dpkg-dev and cmake build
# the static binary (scripts/static-deps.sh); perl builds its OpenSSL (scripts/static-openssl.sh).
# The arm64 cross compiler lets the build tests check the flags chosen per architecture; tmux
# drives an interactive shell in the completion tests; curl fetches the monitoring endpoints in
# their tests; the openssl tool makes the TLS tests' certificates; iproute2 (ip netns) runs the
# cluster tests across network namespaces.
packages=(gcc make pkg-config libuv1-dev libcjson-dev libxxhash-dev libedit-dev libcrypt-dev
          libssl-dev libcmocka-dev libnats-dev musl-tools dpkg-dev cmake perl openssl
          gcc-aarch64-linux-gnu
          bats netcat-openbsd jq clang libclang-rt-14-dev clang-format procps ca-certificates tmux curl
          iproute2)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$p")
done

apt_updated=0
apt_update() {
    if [[ $apt_updated == 0 ]]; then
        apt-get update -qq
        apt_updated=1
    fi
}

if ((${#missing[@]})); then
    if [[ $(id -u) != 0 ]]; then
        echo "natsctl: missing packages; run as root:" >&2
        echo "  apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
    echo "installing: ${missing[*]}" >&2
    apt_update
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
fi

# The reference server for interop tests and benchmarks, unpacked but not installed.
ref=.deps/nats-server/usr/sbin/nats-server
if [[ ! -x $ref ]]; then
    if [[ -x /usr/sbin/nats-server ]]; then
        mkdir -p "$(dirname "$ref")"
        ln -sf /usr/sbin/nats-server "$ref"
    else
        tmp=$(mktemp -d)
        trap 'rm -rf "$tmp"' EXIT
        if ! (cd "$tmp" && apt-get download -qq nats-server 2>/dev/null); then
            apt_update
            (cd "$tmp" && apt-get download -qq nats-server)
        fi
        rm -rf .deps/nats-server
        mkdir -p .deps/nats-server
        dpkg -x "$tmp"/nats-server_*.deb .deps/nats-server
    fi
fi
