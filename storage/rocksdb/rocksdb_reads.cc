#include "storage/rocksdb/rocksdb_reads.h"

#include <memory>

#include <rocksdb/db.h>

#include "storage/internal/counter_pair.h"

namespace papr::storage::rocksdb_internal {
namespace {

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

Status ReadError(const rocksdb::Status& s, const char* what, Table table) {
  std::string msg = std::string(what) + " " + TableName(table) + ": " + s.ToString();
  if (s.IsCorruption()) return Status::Corruption(std::move(msg));
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) return Status::Unavailable(std::move(msg));
  return Status::IoError(std::move(msg));
}

//! Releases its RocksDB snapshot on destruction; reads through it see the database as of then.
class RocksStoreSnapshot final : public StoreSnapshot {
 public:
  explicit RocksStoreSnapshot(const Db& db)
      : db_(db), snapshot_(db.RawForStore()->GetSnapshot()) {}
  ~RocksStoreSnapshot() override { db_.RawForStore()->ReleaseSnapshot(snapshot_); }

  Result<std::optional<std::string>> Get(Table table, std::string_view key) const override {
    return GetAt(db_, snapshot_, table, key);
  }
  Result<ScanPage> Scan(Table table, std::string_view start, std::string_view end,
                        size_t limit) const override {
    return ScanAt(db_, snapshot_, table, start, end, limit);
  }
  Result<std::pair<int64_t, int64_t>> GetCounters(Table table,
                                                  std::string_view key) const override {
    return GetCountersAt(db_, snapshot_, table, key);
  }

 private:
  const Db& db_;
  const rocksdb::Snapshot* snapshot_;
};

}  // namespace

Result<std::optional<std::string>> GetAt(const Db& db, const rocksdb::Snapshot* snapshot,
                                         Table table, std::string_view key) {
  auto* cf = db.HandleForStore(table);
  if (cf == nullptr) return std::optional<std::string>();
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  std::string value;
  rocksdb::Status s = db.RawForStore()->Get(ro, cf, ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return ReadError(s, "get from", table);
  return std::optional<std::string>(std::move(value));
}

Result<ScanPage> ScanAt(const Db& db, const rocksdb::Snapshot* snapshot, Table table,
                        std::string_view start, std::string_view end, size_t limit) {
  if (limit == 0) return Status::InvalidArgument("scan limit must be at least 1");
  ScanPage page;
  auto* cf = db.HandleForStore(table);
  if (cf == nullptr) return page;
  // The upper bound stops the iterator at `end` without stepping over tombstones beyond it.
  rocksdb::Slice upper = ToSlice(end);
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  if (!end.empty()) ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db.RawForStore()->NewIterator(ro, cf));
  for (it->Seek(ToSlice(start)); it->Valid(); it->Next()) {
    if (page.rows.size() == limit) {
      page.resume_key = it->key().ToString();
      break;
    }
    page.rows.emplace_back(it->key().ToString(), it->value().ToString());
  }
  if (!it->status().ok()) return ReadError(it->status(), "scan of", table);
  return page;
}

Result<std::pair<int64_t, int64_t>> GetCountersAt(const Db& db, const rocksdb::Snapshot* snapshot,
                                                  Table table, std::string_view key) {
  ASSIGN_OR_RETURN(std::optional<std::string> value, GetAt(db, snapshot, table, key));
  std::pair<int64_t, int64_t> counters{0, 0};
  if (!value.has_value()) return counters;
  if (!internal::DecodeCounterPair(*value, &counters.first, &counters.second)) {
    return Status::Corruption(std::string("malformed counter pair in ") + TableName(table));
  }
  return counters;
}

std::unique_ptr<StoreSnapshot> NewRocksSnapshot(const Db& db) {
  return std::make_unique<RocksStoreSnapshot>(db);
}

}  // namespace papr::storage::rocksdb_internal
