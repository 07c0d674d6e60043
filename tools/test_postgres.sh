#!/usr/bin/env bash
# The PostgreSQL stage of tools/test.sh: integration tests (engine-admin's included) and the
# console browser and npm client tests once more with `storage.backend: postgres`, on a throwaway PostgreSQL 15
# (tools/postgres_local.sh) that this script starts in a temp dir on 127.0.0.1 and stops by its
# data dir. Every papr-server a test starts gets a database of its own
# (tests/integration/server_process.cc, tools/js/papr_server.mjs). Uses the Release build in
# build/ (run tools/build.sh first).
set -euo pipefail
cd "$(dirname "$0")/.."
# The whole integration suite (ctest label `integration`), the console browser tests (label
# `console`) and Papr's npm client (label `client`), but what is about RocksDB itself: its
# files on a full disk or corrupted, and tests that open its data dir. PAPR_PG_TESTS narrows it (a ctest -R regex).
rocksdb_only='^(ReliabilityDiskFullTest|ReliabilityFaultsIntegrationTest\.(Current|Manifest|Database|DataDir)|CloudVersioningTest\.BatchInFlightAcrossTheUpgrade)'
tests=${PAPR_PG_TESTS:-.}
root=$(mktemp -d /tmp/papr_pg_stage_XXXXXX)
trap 'tools/postgres_local.sh stop "$root"; rm -rf "$root"' EXIT
url=
for attempt in 1 2 3 4 5; do  # a random port may be taken
  if url=$(tools/postgres_local.sh start "$root" $((20000 + RANDOM % 30000))); then break; fi
  [ "$attempt" = 5 ] && exit 1
done
# A superuser URL: the harness creates a database per papr-server there.
export PAPR_TEST_POSTGRES_URL="${url%/papr}/postgres"
(cd build && ctest --output-on-failure -j 2 --timeout 900 -L '^(integration|console|client)$' \
  -E "$rocksdb_only" -R "$tests")
