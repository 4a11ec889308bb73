#!/usr/bin/env bash
# Runs each cmocka test binary in its own process with a time limit, so a hang or a crash in one
# is reported without hiding the others. Usage: run.sh BINARY...
set -uo pipefail
limit=$((60 * ${NATSCTL_TEST_TIMEOUT_MULT:-1}))
failed=0
passed=0
for bin in "$@"; do
    if timeout --kill-after=5 "$limit" "$bin"; then
        passed=$((passed + 1))
    else
        echo "FAILED: $bin (exit $?)" >&2
        failed=$((failed + 1))
    fi
done
echo "unit: $passed passed, $failed failed"
((failed == 0))
