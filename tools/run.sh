#!/usr/bin/env bash
# Builds and starts papr-server on the embedded default: the cloud edition (durable engine
# on RocksDB in ./data), listening on 127.0.0.1:8080 with a development API key.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh
export PAPR_API_KEY="${PAPR_API_KEY:-dev-key}"
echo "papr-server: API key for user 'default': $PAPR_API_KEY" >&2
exec build/bin/papr-server --config "${PAPR_CONFIG:-config/cloud.yaml}" \
  --data-dir "${PAPR_DATA_DIR:-./data}" --listen "${PAPR_LISTEN:-127.0.0.1:8080}"
