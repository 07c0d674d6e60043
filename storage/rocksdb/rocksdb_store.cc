#include "storage/rocksdb/rocksdb_store.h"

#include <algorithm>
#include <functional>
#include <set>
#include <utility>
#include <vector>

#include "storage/rocksdb/rocksdb_reads.h"

namespace papr::storage {
namespace {

WriteBatch ToWriteBatch(const Batch& batch) {
  WriteBatch wb;
  for (const Batch::Op& op : batch.ops()) {
    switch (op.kind) {
      case Batch::OpKind::kPut:
      case Batch::OpKind::kInsert:
        wb.Put(op.table, op.key, op.value);
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

size_t StripeOf(const Batch::Op& op, size_t stripes) {
  size_t h = std::hash<std::string_view>()(op.key);
  return (h ^ (static_cast<size_t>(op.table) * 0x9e3779b97f4a7c15ULL)) % stripes;
}

}  // namespace

Result<std::unique_ptr<RocksDbStore>> RocksDbStore::Open(const DbOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(options));
  auto store = std::make_unique<RocksDbStore>(db.get());
  store->owned_db_ = std::move(db);
  return store;
}

Status RocksDbStore::Write(const Batch& batch) {
  if (batch.has_inserts()) return WriteWithInserts(batch);
  WriteBatch wb = ToWriteBatch(batch);
  return db_->Write(wb);
}

// Locks the stripes of every inserted key in index order (no deadlock between batches), then
// checks and writes: a concurrent Insert of the same key waits and then finds it.
Status RocksDbStore::WriteWithInserts(const Batch& batch) {
  std::vector<size_t> stripes;
  for (const Batch::Op& op : batch.ops()) {
    if (op.kind == Batch::OpKind::kInsert) stripes.push_back(StripeOf(op, kInsertStripes));
  }
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(stripes.size());
  for (size_t s : stripes) locks.emplace_back(insert_stripes_[s]);
  RETURN_IF_ERROR(CheckInsertsAbsent(batch));
  WriteBatch wb = ToWriteBatch(batch);
  return db_->Write(wb);
}

Status RocksDbStore::CheckInsertsAbsent(const Batch& batch) const {
  std::set<std::pair<Table, std::string_view>> inserted;
  for (const Batch::Op& op : batch.ops()) {
    if (op.kind != Batch::OpKind::kInsert) continue;
    if (!inserted.emplace(op.table, op.key).second) {
      return Status::AlreadyExists(std::string("key inserted twice into ") + TableName(op.table));
    }
    ASSIGN_OR_RETURN(std::optional<std::string> existing, db_->Get(op.table, op.key));
    if (existing.has_value()) {
      return Status::AlreadyExists(std::string("key exists in ") + TableName(op.table));
    }
  }
  return Status::Ok();
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
