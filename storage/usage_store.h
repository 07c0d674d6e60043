#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
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

//! Durable per-user counters of batch submissions. Writes are not fsynced on their own: the
//! next synced write (e.g. the batch's start) makes them durable; a crash may lose the last
//! few, which is fine for usage statistics. Thread-safe.
class UsageStore {
 public:
  explicit UsageStore(Db* db) : db_(db) {}
  enum class Outcome { kAccepted, kRejectedForSize, kRefused };
  // Every submitted batch counts as attempted; `outcome` says what became of it (kRefused:
  // invalid items, a bad webhook target, a full queue, ...).
  Status RecordBatch(std::string_view user_id, int64_t size, Outcome outcome);
  Result<Usage> Get(std::string_view user_id) const;

 private:
  // The largest batch size stored for the user (a MetaMaxKey set, or an older counter).
  Result<int64_t> StoredMax(std::string_view user_id) const;

  Db* db_;
  // The largest size this process knows per user: only a larger one writes. The stored
  // maximum is a grow-only set, so a stale cache (another writer raised it meanwhile) costs
  // one extra row, never a wrong maximum; the write happens outside the lock (a lock held
  // across a write would wait on other writers' fsyncs).
  std::mutex max_mu_;
  std::unordered_map<std::string, int64_t> max_cache_;
};

}  // namespace papr::storage
