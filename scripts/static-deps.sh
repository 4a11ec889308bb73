#!/usr/bin/env bash
# Builds libuv, cJSON, libedit and ncurses' terminal library (libtinfo) with musl for natsctl's
# static binary, into .deps/musl/{include,lib}, and musl's own crypt (bcrypt for passwords), which
# Debian's musl-dev leaves out of its libc.a. OpenSSL joins them there from its own script,
# static-openssl.sh, which the Makefile runs after this one.
#
# Debian ships these libraries compiled against glibc only, so this fetches the Debian source of
# the versions installed here (libuv1-dev, libcjson-dev, libedit-dev, libncurses-dev, musl-dev: the same
# upstream release and the same
# security patches) through apt, whose signed indexes vouch for the files, and compiles them with
# musl-gcc. Nothing is installed on the system; a private apt list directory under .deps/src holds
# the deb-src index. Needs musl-tools, dpkg-dev and cmake (scripts/deps.sh installs them) and
# network access on the first run.
#
# The result is kept with a stamp naming this script's content (and the fetching helpers'), so a
# run with the same scripts returns at once and a changed script (flags, versions) rebuilds. A
# failed run leaves nothing half-built in .deps/musl; the Makefile then builds the dynamic glibc
# binary instead. OpenSSL keeps a stamp of its own: the slowest library is rebuilt only when its
# own script changes (or this one replaced .deps/musl).
#
# Environment: DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR override the deb.debian.org defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/.deps/musl
src=$root/.deps/src
stamp=$out/.stamp
want_stamp=$(cat "$root/scripts/static-deps.sh" "$root/scripts/debsrc.sh" | sha256sum | cut -d' ' -f1)
# shellcheck source=scripts/debsrc.sh
source "$root/scripts/debsrc.sh"

if [[ -f $stamp && $(cat "$stamp") == "$want_stamp" && -f $out/lib/libuv.a && -f $out/lib/libcjson.a &&
      -f $out/lib/libedit.a && -f $out/lib/libtinfo.a && -f $out/lib/libcrypt.a &&
      -f $out/include/xxhash.h ]]; then
    exit 0
fi

if [[ ! -f /usr/include/xxhash.h ]]; then
    echo "natsctl: /usr/include/xxhash.h is missing; run 'make deps' (or build with STATIC=0)" >&2
    exit 1
fi
for tool in musl-gcc dpkg-source cmake make tic infocmp; do
    if ! command -v "$tool" >/dev/null; then
        echo "natsctl: $tool is missing; run 'make deps' (or build with STATIC=0)" >&2
        exit 1
    fi
done

echo "static deps: building libuv, cJSON, libedit, libtinfo and crypt with musl into .deps/musl" >&2

# Built into $new and moved into place only once complete.
new=$root/.deps/musl.new
trap 'rm -rf "$new"' EXIT
rm -rf "$new"
debsrc_init "$src"
mkdir -p "$new/include/cjson" "$new/lib"

debsrc_fetch "$src" libuv1 libuv1-dev
debsrc_fetch "$src" cjson libcjson-dev
debsrc_fetch "$src" ncurses libncurses-dev
debsrc_fetch "$src" libedit libedit-dev
debsrc_fetch "$src" musl musl-dev

# CMAKE_C_FLAGS_RELEASE replaces CMake's "-O3 -DNDEBUG" as a whole, so -DNDEBUG is spelled
# out: without it libuv's internal asserts ship enabled.
flags=(-O2 -DNDEBUG -ffunction-sections -fdata-sections)
quietly cmake -S "$src/libuv1" -B "$src/libuv1/build-musl" -DCMAKE_C_COMPILER=musl-gcc \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="${flags[*]}" \
    -DLIBUV_BUILD_TESTS=OFF -DLIBUV_BUILD_BENCH=OFF
quietly cmake --build "$src/libuv1/build-musl" --target uv_a -j "$(nproc)"
cp "$src/libuv1/build-musl/libuv_a.a" "$new/lib/libuv.a"
cp -r "$src/libuv1/include/." "$new/include/"

# cJSON is one file by design; its build system adds nothing here.
quietly musl-gcc "${flags[@]}" -c "$src/cjson/cJSON.c" -o "$src/cjson/cJSON.o"
quietly ar rcs "$new/lib/libcjson.a" "$src/cjson/cJSON.o"
cp "$src/cjson/cJSON.h" "$new/include/cjson/"

# ncurses: only the terminal library (libtinfo) that libedit needs, wide-character build. A static
# binary cannot rely on the build machine's terminfo layout, so the search path names every place
# Debian, Fedora, Arch and Alpine use, and the common terminals are compiled in (--with-fallbacks,
# generated here with the host's tic/infocmp) for systems without a terminfo database at all.
nc=$src/ncurses
(
    cd "$nc"
    quietly env CC=musl-gcc CFLAGS="${flags[*]}" ./configure --prefix="$src/ncurses-inst" \
        --without-shared --with-normal --without-debug --without-profile --without-cxx \
        --without-cxx-binding --without-ada --without-progs --without-tests --without-manpages \
        --enable-widec --with-termlib --disable-db-install --without-gpm --disable-home-terminfo \
        --enable-pc-files=no \
        --with-terminfo-dirs=/etc/terminfo:/lib/terminfo:/usr/share/terminfo:/usr/lib/terminfo \
        --with-default-terminfo-dir=/usr/share/terminfo \
        --with-fallbacks=xterm-256color,xterm,vt100,linux,screen,screen-256color,tmux-256color,tmux
    quietly make -j "$(nproc)" libs
    quietly make install.libs install.includes
)
cp "$src/ncurses-inst/lib/libtinfow.a" "$new/lib/libtinfo.a"

# libedit's configure looks for -ltinfo (found above). musl does not define __STDC_ISO_10646__
# although its wchar_t holds Unicode code points, which libedit insists on. The Debian patches
# leave the autotools outputs older than their inputs; touching them stops make from wanting
# automake.
ed=$src/libedit
(
    cd "$ed"
    touch aclocal.m4 && touch configure config.h.in && find . -name Makefile.in -exec touch {} +
    quietly env CC=musl-gcc CFLAGS="${flags[*]}" \
        CPPFLAGS="-D__STDC_ISO_10646__=201103L -I$src/ncurses-inst/include/ncursesw -I$src/ncurses-inst/include" \
        LDFLAGS="-L$new/lib" ./configure --prefix="$src/libedit-inst" --disable-shared \
        --enable-static --disable-examples
    quietly make -j "$(nproc)"
    quietly make install
)
cp "$src/libedit-inst/lib/libedit.a" "$new/lib/"
cp "$src/libedit-inst/include/histedit.h" "$new/include/"

# crypt: Debian's build deletes musl's crypt sources first (debian/clean), so its libc.a has no
# crypt_r, which natsctl needs for bcrypt; here they are compiled from the same source package. They
# use musl's internal headers (src/include, src/internal), which wrap the public ones.
mc=$src/musl
for f in crypt crypt_r crypt_blowfish crypt_des crypt_md5 crypt_sha256 crypt_sha512; do
    quietly musl-gcc "${flags[@]}" -I"$mc/src/include" -I"$mc/src/internal" \
        -c "$mc/src/crypt/$f.c" -o "$mc/$f.o"
done
quietly ar rcs "$new/lib/libcrypt.a" "$mc"/crypt*.o
cp "$mc/include/crypt.h" "$new/include/"

# xxhash is used header-only (XXH_INLINE_ALL), so the system's header serves musl as it is.
cp /usr/include/xxhash.h "$new/include/"

echo "$want_stamp" >"$new/.stamp"
rm -rf "$out"
mv "$new" "$out"

built=$(cd "$src" && ls libuv1_*.dsc cjson_*.dsc ncurses_*.dsc libedit_*.dsc musl_*.dsc |
    sed 's/\.dsc$//' | tr '\n' ' ')
echo "static deps: built ${built% } with musl into .deps/musl" >&2
