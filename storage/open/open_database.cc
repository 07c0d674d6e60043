#include "storage/open/open_database.h"

#include <filesystem>
#include <utility>

#include "storage/postgres/postgres_store.h"
#include "storage/snapshot_store.h"

namespace papr::storage {

PgStoreOptions PostgresOptions(const config::Storage& c) {
  PgStoreOptions pg;
  pg.url = c.postgres.url;
  pg.pool_size = static_cast<int>(c.postgres.pool_size);
  pg.statement_timeout_ms = c.postgres.statement_timeout_ms;
  return pg;
}

DbOptions RocksDbOptions(const config::Storage& c) {
  DbOptions options;
  options.path = (std::filesystem::path(c.data_dir) / "db").string();
  options.sync_writes = c.sync_writes;
  options.block_cache_bytes = static_cast<size_t>(c.rocksdb.block_cache_bytes);
  options.write_buffer_bytes = static_cast<size_t>(c.rocksdb.write_buffer_bytes);
  return options;
}

Result<std::unique_ptr<Db>> OpenDatabase(const config::Storage& c) {
  if (c.backend == "postgres") return OpenPostgresDatabase(PostgresOptions(c));
  return Db::Open(RocksDbOptions(c));
}

Result<std::unique_ptr<Db>> OpenPostgresDatabase(const PgStoreOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<PostgresStore> store, PostgresStore::Open(options));
  return Db::OpenOnStore(std::move(store));
}

Result<std::unique_ptr<Db>> OpenPostgresSnapshot(const PgStoreOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<PostgresStore> store, PostgresStore::Open(options));
  ASSIGN_OR_RETURN(std::unique_ptr<Store> snapshot, OpenSnapshotStore(std::move(store)));
  return Db::OpenOnStore(std::move(snapshot));
}

}  // namespace papr::storage
