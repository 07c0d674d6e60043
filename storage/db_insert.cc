// Db::Write of a batch with Inserts on RocksDB: RocksDB has no put-if-absent, so the check and
// the write happen while the batch holds its inserted keys (KeyLocks), across the synced
// write. A concurrent Insert of the same key waits and then finds it; inserts of other keys do
// not wait. Batches without Inserts hold nothing. (On a Store, db_on_store.cc passes Inserts
// to the store.)

#include <set>
#include <string>
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
  std::vector<std::string> keys;
  keys.reserve(inserted.size());
  for (const auto& k : inserted) {
    std::string held(1, static_cast<char>(k.table));
    held.append(k.key);
    keys.push_back(std::move(held));
  }
  internal::KeyLocks::Hold hold = rep_->insert_locks.Acquire(std::move(keys));
  for (const auto& k : inserted) {
    ASSIGN_OR_RETURN(std::optional<std::string> existing, Get(k.table, k.key));
    if (existing.has_value()) {
      return Status::AlreadyExists(std::string("key exists in ") + TableName(k.table));
    }
  }
  return WriteToRocks(batch);
}

}  // namespace papr::storage
