#pragma once

#include <memory>

#include "common/result.h"
#include "config/config.h"
#include "storage/db.h"
#include "storage/postgres/pg_options.h"

namespace papr::storage {

// The database `storage.backend` selects, as papr-server opens it: the embedded RocksDB
// database under <storage.data_dir>/db, or the tables of the PostgreSQL database at
// storage.postgres.url (created there when it has none). engine-admin opens the same way.
Result<std::unique_ptr<Db>> OpenDatabase(const config::Storage& c);

// The embedded backend's options from storage.* (data_dir/db, sync, storage.rocksdb.*).
DbOptions RocksDbOptions(const config::Storage& c);

// The PostgreSQL backend's options from storage.postgres.*.
PgStoreOptions PostgresOptions(const config::Storage& c);

// A Db on the PostgreSQL database at `options` (OpenDatabase's postgres backend).
Result<std::unique_ptr<Db>> OpenPostgresDatabase(const PgStoreOptions& options);

// A read-only Db over a snapshot of the PostgreSQL database at `options` (storage/
// snapshot_store.h): reads see it as of this call. Writes answer FailedPrecondition.
Result<std::unique_ptr<Db>> OpenPostgresSnapshot(const PgStoreOptions& options);

}  // namespace papr::storage
