#!/usr/bin/env bash
# Browser tests of the web console (ui/): starts the real papr-server (cloud and open-source
# configs) and drives Debian's chromium with playwright-core (never downloads a browser).
#   tools/test_ui.sh                       # uses build/bin/papr-server
#   PAPR_BIN_DIR=build-ui/bin tools/test_ui.sh
# Installs chromium (apt-get) and the node dependencies of ui/ when missing. Exits 0 with
# "skipped: chromium cannot be installed" only when chromium cannot be installed.
# Screenshots land in ui/tests/artifacts/. The last line printed is node's test summary.
set -euo pipefail
cd "$(dirname "$0")/.."

export PAPR_BIN_DIR="${PAPR_BIN_DIR:-build/bin}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
log="$(mktemp -t papr-test-ui.XXXXXX)"
trap 'rm -f "$log"' EXIT

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"; else return 1; fi
}

apt_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y --no-install-recommends "$@" >>"$log" 2>&1 && return 0
  as_root apt-get update >>"$log" 2>&1 || true
  as_root apt-get install -y --no-install-recommends "$@" >>"$log" 2>&1
}

if [ ! -x "$CHROMIUM" ]; then
  echo "test_ui: installing chromium with apt-get" >&2
  if ! apt_install chromium || [ ! -x "$CHROMIUM" ]; then
    tail -n 5 "$log" >&2 || true
    echo "skipped: chromium cannot be installed"
    exit 0
  fi
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "test_ui: installing nodejs and npm with apt-get" >&2
  apt_install nodejs npm || { tail -n 20 "$log" >&2; echo "test_ui: node/npm missing" >&2; exit 1; }
fi

if [ ! -f ui/node_modules/playwright-core/package.json ]; then
  echo "test_ui: installing node dependencies in ui/" >&2
  (cd ui && { npm ci --no-audit --no-fund || npm install --no-audit --no-fund; }) >>"$log" 2>&1 ||
    { tail -n 20 "$log" >&2; echo "test_ui: npm install failed in ui/" >&2; exit 1; }
fi

if [ ! -x "$PAPR_BIN_DIR/papr-server" ]; then
  echo "test_ui: $PAPR_BIN_DIR/papr-server is missing: build it first (tools/build.sh)" >&2
  exit 1
fi

# Explicit files (not the directory) so that every node version finds them.
exec node --test ui/tests/*.test.mjs
