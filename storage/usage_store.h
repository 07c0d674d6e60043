#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "common/result.h"
#include "storage/db.h"

namespace papr::storage {

//! Batch-size usage of one user, as `papr check-limits` reports it.
struct Usage {
  int64_t batches_attempted = 0;
  int64_t memories_attempted = 0;  // sum of attempted batch sizes
  int64_t max_batch_size_attempted = 0;
  int64_t batches_rejected_for_size = 0;
  int64_t batches_accepted = 0;
};

//! Durable per-user counters of batch submissions. With a flush interval, submissions add up in
//! memory and one background write per interval stores them all (a write per submit was a
//! round trip on every submit's path on PostgreSQL); this store's Get counts what is pending, and
//! a crash loses at most the last interval's counts, which is fine for usage statistics. Writes
//! are not fsynced on their own: the next synced write makes them durable. Thread-safe.
class UsageStore {
 public:
  // flush_interval_ms <= 0: every RecordBatch writes at once.
  explicit UsageStore(Db* db, int64_t flush_interval_ms = 0);
  ~UsageStore();  // writes what is pending
  UsageStore(const UsageStore&) = delete;
  UsageStore& operator=(const UsageStore&) = delete;

  enum class Outcome { kAccepted, kRejectedForSize, kRefused };
  // Every submitted batch counts as attempted; `outcome` says what became of it (kRefused:
  // invalid items, a bad webhook target, a full queue, ...).
  Status RecordBatch(std::string_view user_id, int64_t size, Outcome outcome);
  Result<Usage> Get(std::string_view user_id) const;
  // Writes the pending counts now (kept pending if the write fails).
  Status Flush();

 private:
  struct Pending {
    int64_t attempted = 0, attempted_sum = 0;
    int64_t accepted = 0, accepted_sum = 0;
    int64_t rejected = 0, rejected_sum = 0;
    int64_t max = 0;
    void Add(const Pending& other);
  };
  // The largest batch size stored for the user (a MetaMaxKey set, or an older counter).
  Result<int64_t> StoredMax(std::string_view user_id) const;
  // Stages one user's counts; the maximum only if it is above the one this process knows.
  Status Stage(const std::string& user_id, const Pending& p, WriteBatch& batch);
  void FlushLoop(int64_t interval_ms);

  Db* db_;
  // Held across a flush's write: Get never sees counts both stored and pending. Ordered
  // before mu_ and max_mu_.
  mutable std::mutex flush_mu_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Pending> pending_;  // guarded by mu_
  bool stopping_ = false;                             // guarded by mu_
  std::condition_variable stop_cv_;
  // The largest size this process knows per user: only a larger one writes. The stored
  // maximum is a grow-only set, so a stale cache (another writer raised it meanwhile) costs
  // one extra row, never a wrong maximum.
  std::mutex max_mu_;
  std::unordered_map<std::string, int64_t> max_cache_;
  std::thread flusher_;  // last: started once the rest is built
};

}  // namespace papr::storage
