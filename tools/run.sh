#!/usr/bin/env bash
# Builds and starts papr-server on the embedded default: the cloud edition (durable engine
# on RocksDB in ./data), listening on 127.0.0.1:8080 with a development API key.
# --postgres: on a local PostgreSQL 15 in ./data/pg instead (tools/postgres_local.sh; port
# PAPR_PG_PORT, default 5433), started first if it is not running.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh
export PAPR_API_KEY="${PAPR_API_KEY:-dev-key}"
data_dir="${PAPR_DATA_DIR:-./data}"
if [ "${1:-}" = "--postgres" ]; then
  PAPR_DATABASE_URL=$(tools/postgres_local.sh start "$data_dir/pg" "${PAPR_PG_PORT:-5433}")
  export PAPR_DATABASE_URL PAPR_STORAGE_BACKEND=postgres
  echo "papr-server: on PostgreSQL $PAPR_DATABASE_URL" >&2
fi
echo "papr-server: API key for user 'default': $PAPR_API_KEY" >&2
exec build/bin/papr-server --config "${PAPR_CONFIG:-config/cloud.yaml}" \
  --data-dir "$data_dir" --listen "${PAPR_LISTEN:-127.0.0.1:8080}"
