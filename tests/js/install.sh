#!/usr/bin/env bash
# Installs the pinned nats.js (package-lock.json) into tests/js/node_modules. Debian 12 ships node
# 18 and npm 9 in the nodejs and npm packages, enough for node:test; as root this installs them
# when node or npm is missing, otherwise it prints the command and fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    if ((EUID != 0)); then
        echo "js-client: node and npm are missing; run as root:" >&2
        echo "  apt-get install -y --no-install-recommends nodejs npm" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm </dev/null
fi
npm ci --no-audit --no-fund
