#!/usr/bin/env bash
# Builds OpenSSL's libssl and libcrypto with musl for natsctl's static binary, into .deps/musl (run
# after static-deps.sh, which makes that directory).
#
# The source is Debian's, of the installed libssl-dev's version when the mirror still has it
# (debsrc.sh), so the static binary carries the same release and security patches as the system
# library the glibc build links. OpenSSL is by far the slowest library to build, so it is cut down
# to what natsctl uses: TLS 1.2 and 1.3 with ECDHE and RSA/ECDSA certificates, AES-GCM and
# ChaCha20-Poly1305, X.509 verification, PEM files, and Ed25519 for nkeys. Everything else
# (engines, legacy ciphers, DTLS, CMS, OCSP, the apps, tests and documents) is configured out, and
# only the libraries are built. It also does not read openssl.cnf at startup: a static binary
# cannot know where a system keeps it, and natsctl's TLS settings come from its own options.
#
# A server that never uses TLS should not pay for it in memory: an idle broker's RSS is mostly the
# pages of the binary that the kernel maps around the code and constants it touches (fault-around
# maps 64 KiB at a time). OpenSSL's code and constants therefore get section names of their own
# (.openssl.text.*, .openssl.rodata.*), which scripts/openssl-sections.ld places after natsctl's
# and libc's, instead of in between where every idle server would map them.
#
# Like static-deps.sh it keeps a stamp of its own content (and of the linker script's), so a
# second run returns at once; it prints how long a build took. Needs musl-gcc, dpkg-source, perl,
# make and binutils, and network access on the first run. A failure leaves the previous libraries
# (or none) in place.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/.deps/musl
src=$root/.deps/src-openssl
stamp=$out/.stamp-openssl
want_stamp=$(cat "$root/scripts/static-openssl.sh" "$root/scripts/debsrc.sh" \
    "$root/scripts/openssl-sections.ld" | sha256sum | cut -d' ' -f1)
# shellcheck source=scripts/debsrc.sh
source "$root/scripts/debsrc.sh"

if [[ -f $stamp && $(cat "$stamp") == "$want_stamp" && -f $out/lib/libssl.a &&
      -f $out/lib/libcrypto.a && -f $out/include/openssl/ssl.h ]]; then
    exit 0
fi
if [[ ! -d $out/lib ]]; then
    echo "natsctl: $out is missing; run scripts/static-deps.sh first" >&2
    exit 1
fi
for tool in musl-gcc dpkg-source perl make objcopy objdump; do
    if ! command -v "$tool" >/dev/null; then
        echo "natsctl: $tool is missing; run 'make deps' (or build with STATIC=0)" >&2
        exit 1
    fi
done

echo "static deps: building OpenSSL (libssl, libcrypto) with musl into .deps/musl" >&2
start=$(date +%s)
debsrc_init "$src"
debsrc_fetch "$src" openssl libssl-dev

# no-secure-memory: its mmap guard pages need <linux/mman.h>, which musl-gcc does not see, and the
# keys natsctl holds are in ordinary memory anyway. Assembly stays on: AES-NI and the vector
# ChaCha20 are what make TLS cheap per message. no-pic and -fno-pie (Debian's gcc makes
# position-independent code unless told not to): compiled position-dependent, OpenSSL's hundreds
# of KiB of constant tables of pointers (algorithm dispatch, ASN.1 templates) are read-only data
# rather than the writable segment next to natsctl's own variables, where the kernel's
# fault-around would map them into every idle server.
configure=(
    linux-x86_64 no-shared no-pic no-tests no-module no-engine no-dso no-static-engine no-legacy
    no-deprecated no-autoload-config no-secure-memory no-async no-comp no-ui-console
    no-ssl3 no-tls1 no-tls1_1 no-dtls no-srp no-psk no-nextprotoneg no-srtp no-sctp no-ssl-trace
    no-weak-ssl-ciphers no-ocsp no-ct no-cms no-ts no-cmp no-rfc3779
    no-idea no-mdc2 no-rc2 no-rc4 no-rc5 no-md4 no-des no-bf no-cast no-camellia no-aria no-seed
    no-sm2 no-sm3 no-sm4 no-whirlpool no-blake2 no-siphash no-scrypt no-gost no-ocb no-siv
    no-dsa no-dh no-ec2m no-multiblock no-afalgeng no-capieng no-padlockeng no-uplink
)
case $(musl-gcc -dumpmachine) in
x86_64-*) ;;
aarch64-*) configure[0]=linux-aarch64 ;;
*) configure[0]=linux-generic64 ;;
esac
ossl=$src/openssl
(
    cd "$ossl"
    # The x86-64 assembly calls OPENSSL_cpuid_setup from .init, at every start of the program,
    # which maps OpenSSL's pages into a server that never uses TLS. OPENSSL_init_crypto() calls it
    # anyway before anything needs it, so the startup call goes.
    sed -i -e '/^\.section[[:space:]]*\.init$/d' -e '/^[[:space:]]*call[[:space:]]*OPENSSL_cpuid_setup$/d' \
        crypto/x86_64cpuid.pl
    if grep -q 'call[[:space:]]*OPENSSL_cpuid_setup' crypto/x86_64cpuid.pl; then
        echo "natsctl: cannot take OPENSSL_cpuid_setup out of .init (crypto/x86_64cpuid.pl)" >&2
        exit 1
    fi
    # OPENSSLDIR is where a client looks for the system's CA certificates (certs/, cert.pem).
    quietly env CC=musl-gcc ./Configure "${configure[@]}" --prefix="$src/inst" --libdir=lib \
        --openssldir=/etc/ssl -O2 -DNDEBUG -fno-pie -ffunction-sections -fdata-sections
    quietly make -j "$(nproc)" build_libs
    quietly make install_dev
)

# LIB: every code and constant section .X of the archive renamed .openssl.X (see the top).
rename_sections() {
    local names args=() n
    names=$(objdump -h "$src/inst/lib/$1.a" | awk '$2 ~ /^\.(text|rodata)/ { print $2 }' | sort -u)
    for n in $names; do
        args+=(--rename-section "$n=.openssl$n")
    done
    quietly objcopy "${args[@]}" "$src/inst/lib/$1.a" "$out/lib/$1.a.new"
}

rm -rf "$out/include/openssl.new"
cp -r "$src/inst/include/openssl" "$out/include/openssl.new"
rename_sections libssl
rename_sections libcrypto
rm -rf "$out/include/openssl"
mv "$out/include/openssl.new" "$out/include/openssl"
mv "$out/lib/libssl.a.new" "$out/lib/libssl.a"
mv "$out/lib/libcrypto.a.new" "$out/lib/libcrypto.a"
echo "$want_stamp" >"$stamp"

built=$(cd "$src" && ls openssl_*.dsc | sed 's/\.dsc$//')
echo "static deps: built $built with musl into .deps/musl in $(($(date +%s) - start)) s" >&2
