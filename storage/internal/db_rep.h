#pragma once

// Db's private state, shared by db.cc (open, reads, writes) and db_no_space.cc (a full disk:
// the read-only start, resuming writes, reopening for writes once space returns).

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/cache.h>
#include <rocksdb/db.h>

#include "common/result.h"
#include "storage/db.h"
#include "storage/internal/key_locks.h"
#include "storage/store.h"

namespace papr::storage {
namespace internal {

inline constexpr size_t kTableCount = static_cast<size_t>(Table::kCount);
inline constexpr const char* kSchemaVersion = "1";

//! One open RocksDB database and its column family handles.
struct DbInstance {
  std::unique_ptr<rocksdb::DB> db;
  // Indexed by Table; null for a table absent from a read-only/secondary database.
  std::array<rocksdb::ColumnFamilyHandle*, kTableCount> handles{};
  std::vector<rocksdb::ColumnFamilyHandle*> owned;  // all opened handles, destroyed on close

  ~DbInstance();
  rocksdb::ColumnFamilyHandle* handle(Table t) const {
    auto i = static_cast<size_t>(t);
    return i < kTableCount ? handles[i] : nullptr;
  }
};

// Opens `options` (primary, read-only or secondary) with the shared block cache. Sets
// *no_space when a primary open failed for lack of space (a read-only open may still work).
Result<std::unique_ptr<DbInstance>> OpenInstance(const DbOptions& options,
                                                 const std::shared_ptr<rocksdb::Cache>& cache,
                                                 bool* no_space);
Status FromRocks(const rocksdb::Status& s, std::string_view context);
bool IsNoSpace(const rocksdb::Status& s);

}  // namespace internal

struct Db::Rep {
  // Set for a Db opened on a Store (db_on_store.cc): then there is no RocksDB instance.
  std::unique_ptr<Store> store;
  std::shared_ptr<rocksdb::Cache> cache;
  // The instance every operation uses, loaded once per operation. A read-only start on a full
  // disk is replaced by a writable instance once space returns; the replaced one stays open
  // until the Db closes, so a read or cursor that loaded it before the swap ends safely.
  std::atomic<internal::DbInstance*> live{nullptr};
  std::vector<std::unique_ptr<internal::DbInstance>> instances;  // guarded by reopen_mu
  std::mutex reopen_mu;

  std::atomic<bool> write_failed{false};
  std::atomic<bool> write_failed_no_space{false};  // the latching error was ENOSPC
  // Serving from a read-only instance because the disk was full at open (TryReopenWritable).
  std::atomic<bool> read_only_for_no_space{false};
  std::atomic<bool> inject_write_error{false};
  std::atomic<bool> inject_no_space{false};
  enum LostConnection : int { kNoFault, kLostBeforeCommit, kLostDuringCommit };
  std::atomic<int> inject_lost_connection{kNoFault};
  // Inserted keys, held across an Insert's check and its write (db_insert.cc).
  internal::KeyLocks insert_locks;
  std::mutex error_mu;
  std::string write_error;  // first failed write's message; guarded by error_mu
#if defined(__SANITIZE_THREAD__)
  std::mutex tsan_write_mu;
#endif

  internal::DbInstance& current() const { return *live.load(std::memory_order_acquire); }
  // Makes `instance` the live one (callers hold reopen_mu, or own the Db alone at open).
  void Install(std::unique_ptr<internal::DbInstance> instance) {
    live.store(instance.get(), std::memory_order_release);
    instances.push_back(std::move(instance));
  }
};

}  // namespace papr::storage
