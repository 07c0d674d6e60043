// Db::Write of a batch with Inserts on RocksDB: RocksDB has no put-if-absent, so the check and
// the write happen under striped mutexes (one per stripe of the inserted keys), held across
// the synced write. A concurrent Insert of the same key waits and then finds it. Batches
// without Inserts take no stripe. (On a Store, db_on_store.cc passes Inserts to the store.)

#include <algorithm>
#include <functional>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "storage/internal/db_rep.h"
#include "storage/internal/write_batch_rep.h"

namespace papr::storage {
namespace {

using internal::OpTag;

struct InsertedKey {
  Table table;
  std::string_view key;
  bool operator<(const InsertedKey& o) const {
    return table != o.table ? table < o.table : key < o.key;
  }
};

size_t StripeOf(const InsertedKey& k, size_t stripes) {
  size_t h = std::hash<std::string_view>()(k.key);
  return (h ^ (static_cast<size_t>(k.table) * 0x9e3779b97f4a7c15ULL)) % stripes;
}

// The batch's inserted keys; AlreadyExists when one is inserted twice.
Status CollectInserts(std::string_view ops, std::set<InsertedKey>* out) {
  return internal::ForEachOp(ops, [&](OpTag tag, Table table, std::string_view key,
                                      std::string_view) {
    if (tag != OpTag::kInsert) return Status::Ok();
    if (!out->insert(InsertedKey{table, key}).second) {
      return Status::AlreadyExists(std::string("key inserted twice into ") + TableName(table));
    }
    return Status::Ok();
  });
}

}  // namespace

Status Db::WriteWithInserts(const WriteBatch& batch) {
  std::set<InsertedKey> inserted;
  RETURN_IF_ERROR(CollectInserts(batch.rep_->ops, &inserted));
  // Locked in index order: no deadlock between batches.
  std::vector<size_t> stripes;
  for (const auto& k : inserted) stripes.push_back(StripeOf(k, rep_->insert_stripes.size()));
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(stripes.size());
  for (size_t s : stripes) locks.emplace_back(rep_->insert_stripes[s]);
  for (const auto& k : inserted) {
    ASSIGN_OR_RETURN(std::optional<std::string> existing, Get(k.table, k.key));
    if (existing.has_value()) {
      return Status::AlreadyExists(std::string("key exists in ") + TableName(k.table));
    }
  }
  return WriteToRocks(batch);
}

}  // namespace papr::storage
