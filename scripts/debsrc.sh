# shellcheck shell=bash
# Fetching Debian sources for the static build, shared by static-deps.sh and static-openssl.sh.
# Source it, then call debsrc_init DIR: apt works in DIR's private list and cache directories
# (nothing on the system changes), and every step's output goes to DIR/build.log, shown only when
# the step fails.
#
# Environment: DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR override the deb.debian.org defaults.

# quietly CMD...: runs a step with its output in $log; on failure shows the log's end and exits.
quietly() {
    if ! "$@" >>"$log" 2>&1; then
        echo "natsctl: failed: $*" >&2
        tail -n 40 "$log" >&2
        exit 1
    fi
}

# debsrc_init DIR: a fresh DIR with the deb-src index of this Debian release. Sets apt_opts and log.
debsrc_init() {
    local dir=$1 codename mirror security
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    if [[ -z $codename ]]; then
        echo "natsctl: cannot tell the Debian release from /etc/os-release" >&2
        exit 1
    fi
    mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
    security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
    rm -rf "$dir"
    mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial"
    cat >"$dir/apt/sources.list" <<EOF
deb-src $mirror $codename main
deb-src $mirror $codename-updates main
deb-src $security $codename-security main
EOF
    # Bounded waits, so an unreachable mirror fails in seconds rather than minutes.
    apt_opts=(-qq -o "Dir::Etc::SourceList=$dir/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o "Dir::State::Lists=$dir/apt/lists" -o "Dir::Cache=$dir/apt/cache"
              -o Debug::NoLocking=1 -o Acquire::Retries=0 -o Acquire::http::Timeout=15)
    log=$dir/build.log
    : >"$log"
    # apt-get update only warns about an index it cannot fetch; without one nothing can be fetched.
    quietly apt-get "${apt_opts[@]}" update
    if [[ -z $(find "$dir/apt/lists" -name '*_Sources*' -print -quit) ]]; then
        echo "natsctl: cannot fetch the Debian source index from $mirror" >&2
        tail -n 5 "$log" >&2
        exit 1
    fi
}

# debsrc_fetch DIR SOURCE-PACKAGE BINARY-PACKAGE: fetches and unpacks (with Debian's patches) into
# DIR/SOURCE. The installed version is preferred; a superseded one is no longer on the mirror, and
# then the newest version of this release that the mirror still serves is as good, since only the
# static copy is built from it. (An index can name a version whose files the mirror dropped.)
debsrc_fetch() {
    local dir=$1 pkg=$2 bin=$3 installed v
    installed=$(dpkg-query -W -f='${source:Version}' "$bin" 2>/dev/null || true)
    (
        cd "$dir" || exit 1
        for v in $installed $(apt-cache "${apt_opts[@]}" showsrc "$pkg" 2>/dev/null |
                              sed -n 's/^Version: //p' | sort -V -r); do
            if apt-get "${apt_opts[@]}" source --download-only "$pkg=$v" >>"$log" 2>&1; then
                quietly dpkg-source -x "$pkg"_*.dsc "$pkg"
                exit 0
            fi
            rm -f "$pkg"_*
        done
        echo "natsctl: cannot fetch the Debian source of $pkg" >&2
        tail -n 5 "$log" >&2
        exit 1
    )
}
