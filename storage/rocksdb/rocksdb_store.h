#pragma once

#include <memory>

#include "storage/db.h"
#include "storage/store.h"

namespace papr::storage {

//! storage::Store on the embedded RocksDB database (storage::Db, unchanged): writes are
//! Db::Write (one synced write group, atomic across column families), reads use RocksDB
//! snapshots and bounded iterators. Insert is WriteBatch::Insert: Db checks and writes under
//! striped mutexes, so of concurrent Inserts of one key exactly one wins (the mutex is held
//! across the synced write; only Inserts hashing to the same stripe wait for each other).
//! Fences and shard leases are no-ops: the database's LOCK file already makes this process
//! the only writer. Thread-safe.
class RocksDbStore final : public Store {
 public:
  // Opens (and owns) the database.
  static Result<std::unique_ptr<RocksDbStore>> Open(const DbOptions& options);
  // Wraps a database owned by the caller. REQUIRES: `db` outlives the store.
  explicit RocksDbStore(Db* db) : db_(db) {}

  Status Write(const Batch& batch) override;
  Result<std::optional<std::string>> Get(Table table, std::string_view key) const override;
  Result<ScanPage> Scan(Table table, std::string_view start, std::string_view end,
                        size_t limit) const override;
  Result<std::pair<int64_t, int64_t>> GetCounters(Table table,
                                                  std::string_view key) const override;
  Result<std::unique_ptr<StoreSnapshot>> NewSnapshot() const override;

  Result<ShardLease> AcquireShard(uint32_t shard, std::string_view owner,
                                  std::chrono::milliseconds ttl) override;
  Status RenewShard(const ShardLease& lease, std::chrono::milliseconds ttl) override;
  Status ReleaseShard(const ShardLease& lease) override;
  const char* BackendName() const override { return "rocksdb"; }

  Db* db() const { return db_; }

 private:
  std::unique_ptr<Db> owned_db_;
  Db* db_;
};

}  // namespace papr::storage
