#!/usr/bin/env bash
# Builds every tests/fuzz/fuzz_*.c with libFuzzer, ASan and UBSan against libproto's core
# (libproto/*.c; the client in libproto/client/ does network I/O and is not fuzzed here) and
# libbroker, runs each for SECONDS seconds, and fails if a library source or a target does not
# build or a target finds a crash.
#
# Usage: tests/fuzz/run.sh SECONDS [TARGET...]   (what `make fuzz` runs; FUZZ_CC overrides clang)
#
# With TARGETs (fuzz_perm, ...) only those run. fuzz_perm gets a third of SECONDS: its input space
# (a few permission entries and subjects) is small, and the suite's time is shared.
#
# Everything goes under build-fuzz/: the library archive and targets, one corpus directory per
# target (seeded from tests/fuzz/seeds/<target>/ and kept between runs, so coverage accumulates),
# crash artifacts and a log per target. The library is linked as an archive so that a target only
# pulls in the modules it uses.
set -uo pipefail

secs=${1:-}
if [[ ! $secs =~ ^[0-9]+$ ]] || ((secs == 0)); then
    echo "usage: $0 SECONDS [TARGET...]" >&2
    exit 2
fi
shift
only=("$@")
cd "$(dirname "$0")/../.." || exit 2

cc=${FUZZ_CC:-clang}
if ! command -v "$cc" >/dev/null; then
    echo "fuzz: $cc not found (libFuzzer needs clang)" >&2
    exit 1
fi

out=build-fuzz
base=(-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 -fno-omit-frame-pointer
    -fno-sanitize-recover=all -Ilibproto -Ilibbroker
    -DNATSCTL_VERSION="\"$(sed -n "s/^VERSION := //p" Makefile)\"")
read -ra pkg_cflags <<<"$(pkg-config --cflags libuv libcjson libssl libcrypto)"
read -ra pkg_libs <<<"$(pkg-config --libs libuv libcjson libssl libcrypto)"
mkdir -p "$out/obj" "$out/corpus" "$out/artifacts" "$out/logs"

# True when obj must be rebuilt: missing, older than its source or than any library header.
stale() {
    local obj=$1 src=$2
    [[ -f $obj && $obj -nt $src ]] || return 0
    [[ -n $(find libproto libbroker -name '*.h' -newer "$obj" -print -quit) ]]
}

# Compiles libproto/*.c and libbroker/*.c into $out/libfuzz.a. Returns how many sources failed;
# the archive still holds the others, so targets that do not need a broken module can run.
build_library() {
    local src obj objs=() bad=0
    shopt -s nullglob
    for src in libproto/*.c libbroker/*.c; do
        obj="$out/obj/${src%.c}.o"
        mkdir -p "$(dirname "$obj")"
        if stale "$obj" "$src" &&
            ! "$cc" "${base[@]}" "${pkg_cflags[@]}" -fsanitize=fuzzer-no-link,address,undefined \
                -c "$src" -o "$obj"; then
            echo "fuzz: cannot compile $src" >&2
            rm -f "$obj"
            bad=$((bad + 1))
            continue
        fi
        objs+=("$obj")
    done
    rm -f "$out/libfuzz.a"
    if ((${#objs[@]} > 0)) && ! ar rcs "$out/libfuzz.a" "${objs[@]}"; then
        bad=$((bad + 1))
    fi
    return $bad
}

# Builds and runs one target; returns non-zero when it fails to build or finds a crash.
run_target() {
    local src=$1 name
    name=$(basename "$src" .c)
    local bin="$out/$name" corpus="$out/corpus/$name" log="$out/logs/$name.log"
    local libs=()
    [[ -f $out/libfuzz.a ]] && libs=("$out/libfuzz.a")
    if ! "$cc" "${base[@]}" "${pkg_cflags[@]}" -fsanitize=fuzzer,address,undefined "$src" \
        "${libs[@]}" "${pkg_libs[@]}" -lcrypt -lm -o "$bin"; then
        echo "fuzz: $name does not build" >&2
        return 1
    fi
    mkdir -p "$corpus" "$out/artifacts/$name"
    if [[ -d tests/fuzz/seeds/$name ]]; then
        cp -n tests/fuzz/seeds/"$name"/* "$corpus"/ 2>/dev/null
    fi
    local t=$secs
    [[ $name == fuzz_perm ]] && t=$(((secs + 2) / 3))
    echo "fuzz: $name for ${t}s"
    if ! "$bin" -max_total_time="$t" -print_final_stats=1 \
        -artifact_prefix="$out/artifacts/$name/" "$corpus" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "fuzz: $name FAILED (log: $log, inputs: $out/artifacts/$name/)" >&2
        return 1
    fi
    grep -E '^(stat::number_of_executed_units|Done)' "$log" | sed "s/^/  $name: /"
    return 0
}

passed=0
build_library
failed=$? # each library source that does not compile counts as a failure
for src in tests/fuzz/fuzz_*.c; do
    [[ -e $src ]] || continue
    if ((${#only[@]} > 0)) && [[ ! " ${only[*]} " == *" $(basename "$src" .c) "* ]]; then
        continue
    fi
    if run_target "$src"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done
echo "fuzz: $passed passed, $failed failed"
((failed == 0))
