#!/usr/bin/env bash
# Papr's official clients against the real papr-server: the npm client @papr/memory (pinned in
# clients/npm/package.json) driven by node:test in clients/npm/.
#   tools/test_clients.sh                  # uses build/bin/papr-server
#   PAPR_BIN_DIR=build-x/bin tools/test_clients.sh
# Installs node/npm (apt-get) and the pinned client (npm ci) when missing. The last line printed
# is node's test summary.
set -euo pipefail
cd "$(dirname "$0")/.."

export PAPR_BIN_DIR="${PAPR_BIN_DIR:-build/bin}"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "test_clients: installing nodejs and npm with apt-get" >&2
  sudo_or_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
  DEBIAN_FRONTEND=noninteractive sudo_or_root apt-get install -y --no-install-recommends nodejs npm
fi
if [ ! -f clients/npm/node_modules/@papr/memory/package.json ]; then
  echo "test_clients: installing the pinned @papr/memory in clients/npm/" >&2
  (cd clients/npm && npm ci --no-audit --no-fund)
fi
if [ ! -x "$PAPR_BIN_DIR/papr-server" ]; then
  echo "test_clients: $PAPR_BIN_DIR/papr-server is missing: build it first (tools/build.sh)" >&2
  exit 1
fi
# The client reads these; a stray value must not point it anywhere else.
unset PAPR_BASE_URL PAPR_MEMORY_API_KEY PAPR_MEMORY_BEARER_TOKEN
exec node --test clients/npm/papr_memory.test.mjs
