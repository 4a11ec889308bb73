#!/usr/bin/env bash
# Runs the nats.js tests (jetstream.test.js, node:test) against natsctl or the reference
# nats-server, started with JetStream on a store in a temporary directory, and operator.test.js
# (natsctl's client tools with --creds), which starts its own nats-server in operator mode.
# Usage: run.sh natsctl|nats-server. tests/js/install.sh (make js-client) installs nats.js first.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../lib/suite.sh"
suite_init js-client 90 "${1:-}" "$(command -v node || echo node-missing)"

if [[ ! -d $here/node_modules/nats || ! -d $here/node_modules/@nats-io/jwt ]]; then
    echo "$suite: nats.js or @nats-io/jwt is not installed; run tests/js/install.sh" >&2
    exit 2
fi
if start_server js -js -sd "$work/js/store"; then
    out=$work/node.out
    (cd "$here" && NATS_URL=$URL NATSCTL=$NATSCTL NATS_SERVER_BIN=$NATS_SERVER_BIN \
        timeout --kill-after=5 "$limit" \
        node --test --test-reporter=tap jetstream.test.js operator.test.js) >"$out" 2>&1
    rc=$?
    cat "$out"
    ok=$(sed -nE 's/^# pass ([0-9]+)$/\1/p' "$out")
    # a test that hit its time limit is "cancelled", not "fail"
    bad=$(sed -nE 's/^# (fail|cancelled) ([0-9]+)$/\2/p' "$out" | awk '{ n += $1 } END { print n + 0 }')
    passed=$((passed + ${ok:-0}))
    failed=$((failed + ${bad:-0}))
    if ((rc != 0)) && [[ ${bad:-0} == 0 ]]; then
        echo "$suite: node exited with status $rc" >&2
        failed=$((failed + 1))
    fi
fi
suite_finish
