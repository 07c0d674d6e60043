#include "storage/rocksdb/rocksdb_store.h"

#include <utility>

#include "storage/rocksdb/rocksdb_reads.h"

namespace papr::storage {
namespace {

WriteBatch ToWriteBatch(const Batch& batch) {
  WriteBatch wb;
  for (const Batch::Op& op : batch.ops()) {
    switch (op.kind) {
      case Batch::OpKind::kPut:
        wb.Put(op.table, op.key, op.value);
        break;
      case Batch::OpKind::kInsert:
        wb.Insert(op.table, op.key, op.value);
        break;
      case Batch::OpKind::kDelete:
        wb.Delete(op.table, op.key);
        break;
      case Batch::OpKind::kAddCounters:
        wb.AddCounters(op.table, op.key, op.delta_a, op.delta_b);
        break;
    }
  }
  if (batch.no_sync()) wb.SetNoSync();
  return wb;
}

}  // namespace

Result<std::unique_ptr<RocksDbStore>> RocksDbStore::Open(const DbOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(options));
  auto store = std::make_unique<RocksDbStore>(db.get());
  store->owned_db_ = std::move(db);
  return store;
}

// Inserts are Db's (db_insert.cc): checked and written under its striped mutexes, which
// every writer of the Db shares.
Status RocksDbStore::Write(const Batch& batch) {
  WriteBatch wb = ToWriteBatch(batch);
  return db_->Write(wb);
}

Result<std::optional<std::string>> RocksDbStore::Get(Table table, std::string_view key) const {
  return rocksdb_internal::GetAt(*db_, nullptr, table, key);
}

Result<ScanPage> RocksDbStore::Scan(Table table, std::string_view start, std::string_view end,
                                    size_t limit) const {
  return rocksdb_internal::ScanAt(*db_, nullptr, table, start, end, limit);
}

Result<std::pair<int64_t, int64_t>> RocksDbStore::GetCounters(Table table,
                                                              std::string_view key) const {
  return rocksdb_internal::GetCountersAt(*db_, nullptr, table, key);
}

Result<std::unique_ptr<StoreSnapshot>> RocksDbStore::NewSnapshot() const {
  return rocksdb_internal::NewRocksSnapshot(*db_);
}

Result<ShardLease> RocksDbStore::AcquireShard(uint32_t shard, std::string_view owner,
                                              std::chrono::milliseconds /*ttl*/) {
  return ShardLease{shard, 1, std::string(owner)};
}

Status RocksDbStore::RenewShard(const ShardLease& /*lease*/, std::chrono::milliseconds /*ttl*/) {
  return Status::Ok();
}

Status RocksDbStore::ReleaseShard(const ShardLease& /*lease*/) { return Status::Ok(); }

}  // namespace papr::storage
