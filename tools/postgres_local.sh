#!/usr/bin/env bash
# A local PostgreSQL 15 (Debian's binaries) in a directory of its own, on 127.0.0.1:
#   tools/postgres_local.sh start DIR PORT   initdb DIR/data on first use, start, create database
#                                            `papr`; prints its URL
#   tools/postgres_local.sh stop DIR         pg_ctl stop (fast) by its data dir
# As root the server runs as user `postgres` (initdb refuses root). Used by tools/run.sh
# --postgres (./data/pg) and tools/test_postgres.sh (a temp dir).
set -euo pipefail
bin=${PAPR_PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?start or stop}
dir=${2:?directory}
as_pg=()
if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); fi

case "$cmd" in
  start)
    port=${3:?port}
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      "${as_pg[@]}" "$bin/initdb" -D "$dir/data" -A trust -U papr -N -E UTF8 --locale=C \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if ! "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -w -t 60 -l "$dir/server.log" \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir \
            -c max_connections=300 -c shared_buffers=64MB" start >/dev/null ||
        { tail -20 "$dir/server.log" >&2; exit 1; }
    fi
    "$bin/psql" -h 127.0.0.1 -p "$port" -U papr -d postgres -qtAc \
      "SELECT 1 FROM pg_database WHERE datname = 'papr'" | grep -q 1 ||
      "$bin/psql" -h 127.0.0.1 -p "$port" -U papr -d postgres -qc "CREATE DATABASE papr"
    echo "postgresql://papr@127.0.0.1:$port/papr"
    ;;
  stop)
    "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -w -m fast stop >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
