#!/usr/bin/env bash
# The PostgreSQL stage of tools/test.sh: integration tests once more with
# `storage.backend: postgres`, on a throwaway PostgreSQL 15 (Debian's binaries) that this script
# starts in a temp dir on 127.0.0.1 and stops by its data dir. Every papr-server a test starts
# gets a database of its own (tests/integration/server_process.cc). Uses the Release build in
# build/ (run tools/build.sh first). PAPR_PG_TESTS: the ctest -R regex of the tests to run.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${PAPR_PG_BIN:-/usr/lib/postgresql/15/bin}
# Backend-neutral suites (RocksDB-only ones, e.g. the disk-full and corrupted-data-dir tests
# and engine-admin's direct mode, stay with the RocksDB stage).
tests=${PAPR_PG_TESTS:-'^(OssApi|CloudBatch|CloudCrash|CloudLifecycle|CloudClose|CloudProcessing|Webhook|ObservabilitySse|AdminApi|CheckLimits)'}

root=$(mktemp -d /tmp/papr_pg_stage_XXXXXX)
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$root"
  as_pg=(runuser -u postgres --)
fi
stop() {
  "${as_pg[@]}" "$bin/pg_ctl" -D "$root/data" -w -m fast stop >/dev/null 2>&1 || true
  rm -rf "$root"
}
trap stop EXIT
"${as_pg[@]}" "$bin/initdb" -D "$root/data" -A trust -U papr -N -E UTF8 --locale=C \
  >"$root/initdb.log" 2>&1
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 30000))
  if "${as_pg[@]}" "$bin/pg_ctl" -D "$root/data" -w -t 60 -l "$root/server.log" \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$root \
          -c max_connections=300 -c shared_buffers=64MB" start >/dev/null; then
    break
  fi
  [ "$attempt" = 5 ] && { cat "$root/server.log"; exit 1; }
done
export PAPR_TEST_POSTGRES_URL="postgresql://papr@127.0.0.1:$port/postgres"
(cd build && ctest --output-on-failure -j 2 --timeout 900 -R "$tests")
