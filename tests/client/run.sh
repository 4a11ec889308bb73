#!/usr/bin/env bash
# Runs the client connection's end-to-end groups against natsctl or the reference nats-server.
# Usage: run.sh natsctl|nats-server CLIENT_E2E_BINARY
#
# Servers: default, token auth, user/password auth. The reconnect group starts, kills and restarts
# its own server from NATS_TEST_SERVER_CMD. Each group runs in its own process under a time limit
# (tests/lib/suite.sh).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/suite.sh"
suite_init client-e2e 60 "$@"

export NATS_TEST_TOKEN=e2e-s3cret-token NATS_TEST_USER=carol NATS_TEST_PASS=e2e-pa55
export NATS_TEST_SERVER_CMD="${server_cmd[*]}"

if start_server default; then
    run_group basic "$URL"
    run_group servers "$URL"
fi
start_server token --auth "$NATS_TEST_TOKEN" && run_group token "$URL"
start_server userpass --user "$NATS_TEST_USER" --pass "$NATS_TEST_PASS" && run_group userpass "$URL"
run_group reconnect none
suite_finish
