#!/usr/bin/env bats
# The build itself: the layers' include paths, the version set once, the arm64-safe flags, the
# static dependencies (asserts off, an unreachable mirror refused cleanly) and scripts that stop
# only their own processes. Uses `make -n` and the scripts directly: nothing here rebuilds.

load helpers

# make in the checkout as a developer runs it: without the variables of a make that runs this
# suite (make asan-test passes SANITIZE down, which changes the flags under test).
repo_make() {
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u SANITIZE -u BUILD -u STATIC \
        make -C "$REPO" "$@"
}

# The -I flags make would compile OBJ with.
includes_of() {
    repo_make -s -n -B "$1" | grep -o -- ' -I[^ ]*' | tr -d ' ' | sort -u | tr '\n' ' '
}

@test "each layer compiles with only the include paths it may use" {
    [ "$(includes_of build/libproto/np_err.o | sed 's|-I/[^ ]* ||g')" = "-Ilibproto " ]
    [ "$(includes_of build/libproto/client/np_conn.o | sed 's|-I/[^ ]* ||g')" = \
        "-Ilibproto -Ilibproto/client " ]
    [ "$(includes_of build/libbroker/nb_sublist.o | sed 's|-I/[^ ]* ||g')" = "-Ilibbroker -Ilibproto " ]
    [[ $(includes_of build/cmd/main.o) == *-Icmd*-Ilibbroker*-Ilibproto*-Ilibproto/client* ]]
}

@test "a wrong-way include fails to compile in libproto's core" {
    cd "$REPO"
    local flags
    flags=$(repo_make -s -n -B build/libproto/np_err.o | grep -o -- ' -I[^ ]*' | tr '\n' ' ')
    printf '#include "nb.h"\n' >"$BATS_TEST_TMPDIR/bad.c"
    # shellcheck disable=SC2086
    run cc -fsyntax-only $flags "$BATS_TEST_TMPDIR/bad.c"
    [ "$status" -ne 0 ]
    printf '#include "np_client.h"\n' >"$BATS_TEST_TMPDIR/bad.c"
    # shellcheck disable=SC2086
    run cc -fsyntax-only $flags "$BATS_TEST_TMPDIR/bad.c"
    [ "$status" -ne 0 ]
}

@test "the version is set once, in the Makefile, and is what natsctl reports" {
    cd "$REPO"
    local version
    version=$(sed -n 's/^VERSION := //p' Makefile)
    [ -n "$version" ]
    run grep -rnE '#define (NATSCTL_VERSION|NB_VERSION) "' cmd libbroker libproto
    [ "$status" -ne 0 ]
    run "$NATSCTL" --version
    [ "$output" = "natsctl $version" ]
}

@test "the static build passes x86-only flags to an x86-64 compiler only" {
    cd "$REPO"
    run repo_make -s -n -B build/static/libproto/np_err.o STATIC_CC=cc
    if [[ $(cc -dumpmachine) == x86_64-* ]]; then
        [[ $output == *-minline-stringops-dynamically* ]]
    fi
    command -v aarch64-linux-gnu-gcc >/dev/null || skip "no aarch64-linux-gnu-gcc"
    run repo_make -s -n -B build/static/libproto/np_err.o STATIC_CC=aarch64-linux-gnu-gcc
    [ "$status" -eq 0 ]
    [[ $output != *-minline* && $output != *-mmemcpy-strategy* ]]
}

@test "the musl libuv is built without its asserts" {
    [ -f "$REPO/.deps/musl/lib/libuv.a" ] || skip "no static dependencies built"
    run nm "$REPO/.deps/musl/lib/libuv.a"
    [ "$status" -eq 0 ]
    [[ $output != *__assert_fail* ]]
}

@test "the musl OpenSSL runs nothing at startup and links apart from the server's code, as the client code does" {
    local lib=$REPO/.deps/musl/lib/libcrypto.a
    [ -f "$lib" ] || skip "no static dependencies built"
    run objdump -h "$lib"
    [ "$status" -eq 0 ]
    # no .init (OPENSSL_cpuid_setup at every start), and only renamed code and constants
    ! grep -qE ' \.init ' <<<"$output"
    ! grep -qE ' \.(text|rodata)[. ]' <<<"$output"
    grep -qE ' \.openssl\.text\.' <<<"$output"
    readelf -d "$NATSCTL" | grep -q 'no dynamic section' || skip "$NATSCTL is not the static build"
    run readelf -lW "$NATSCTL"
    [[ $output == *".text .text.client .text.openssl"* && $output == *".rodata .rodata.openssl"* ]]
}

@test "static-deps.sh refuses an unreachable mirror quickly and leaves nothing half-built" {
    command -v musl-gcc >/dev/null && command -v dpkg-source >/dev/null && command -v cmake >/dev/null ||
        skip "static build tools missing"
    local tree=$BATS_TEST_TMPDIR/tree
    mkdir -p "$tree/scripts"
    cp "$REPO/scripts/static-deps.sh" "$REPO/scripts/debsrc.sh" "$tree/scripts/"
    DEBIAN_MIRROR=http://127.0.0.1:9/debian DEBIAN_SECURITY_MIRROR=http://127.0.0.1:9/security \
        run --separate-stderr timeout 120 "$tree/scripts/static-deps.sh"
    [ "$status" -eq 1 ]
    [[ $stderr == *"cannot fetch the Debian source index from http://127.0.0.1:9/debian"* ]]
    [ ! -e "$tree/.deps/musl" ]
    [ ! -e "$tree/.deps/musl.new" ]
}

@test "the scripts stop only the processes they started, never by name" {
    run grep -nE '\b(pkill|killall)\b' "$REPO"/scripts/*.sh "$REPO"/tests/*/*.sh
    [ "$status" -ne 0 ]
}
