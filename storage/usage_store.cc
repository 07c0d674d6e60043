#include "storage/usage_store.h"

#include <algorithm>

#include "storage/keys.h"

namespace papr::storage {
namespace {
// Counter pairs in kMeta: (count, sum) per name; kMax is a MetaMaxKey set (and, in databases
// written before it, a counter).
constexpr std::string_view kAttempted = "usage.attempted";
constexpr std::string_view kAccepted = "usage.accepted";
constexpr std::string_view kRejected = "usage.rejected_size";
constexpr std::string_view kMax = "usage.max_attempted";
}  // namespace

Status UsageStore::RecordBatch(std::string_view user_id, int64_t size, Outcome outcome) {
  int64_t raised_from = -1;  // >= 0: this write raises the maximum this process knew
  {
    std::lock_guard lock(max_mu_);
    auto it = max_cache_.find(std::string(user_id));
    if (it == max_cache_.end()) {
      ASSIGN_OR_RETURN(int64_t stored, StoredMax(user_id));
      it = max_cache_.emplace(std::string(user_id), stored).first;
    }
    if (size > it->second) {
      raised_from = it->second;
      it->second = size;
    }
  }
  WriteBatch batch;
  batch.AddCounters(Table::kMeta, MetaCounterKey(kAttempted, user_id), 1, size);
  if (outcome != Outcome::kRefused) {
    batch.AddCounters(Table::kMeta,
                      MetaCounterKey(outcome == Outcome::kAccepted ? kAccepted : kRejected, user_id),
                      1, size);
  }
  if (raised_from >= 0) {
    // The maximum is a set of values (the largest counts): another writer's concurrent raise
    // is kept too, in any order. The value raised from is below this one: it may go.
    batch.Put(Table::kMeta, MetaMaxKey(kMax, user_id, static_cast<uint64_t>(size)), "");
    if (raised_from > 0) {
      batch.Delete(Table::kMeta, MetaMaxKey(kMax, user_id, static_cast<uint64_t>(raised_from)));
    }
  }
  batch.SetNoSync();
  return db_->Write(batch);
}

Result<int64_t> UsageStore::StoredMax(std::string_view user_id) const {
  // Before the set, the maximum was a counter raised by deltas: an old database's still counts.
  ASSIGN_OR_RETURN(auto legacy, db_->GetCounters(Table::kMeta, MetaCounterKey(kMax, user_id)));
  int64_t max = legacy.first;
  const std::string prefix = MetaMaxPrefix(kMax, user_id);
  RETURN_IF_ERROR(db_->ScanPrefix(Table::kMeta, prefix, [&](std::string_view key, std::string_view) {
    uint64_t value = 0;
    if (DecodeMetaMaxKey(key, prefix, &value)) max = std::max(max, static_cast<int64_t>(value));
    return false;  // the first key holds the largest value
  }));
  return max;
}

Result<Usage> UsageStore::Get(std::string_view user_id) const {
  Usage u;
  ASSIGN_OR_RETURN(auto attempted, db_->GetCounters(Table::kMeta, MetaCounterKey(kAttempted, user_id)));
  ASSIGN_OR_RETURN(auto accepted, db_->GetCounters(Table::kMeta, MetaCounterKey(kAccepted, user_id)));
  ASSIGN_OR_RETURN(auto rejected, db_->GetCounters(Table::kMeta, MetaCounterKey(kRejected, user_id)));
  ASSIGN_OR_RETURN(int64_t max, StoredMax(user_id));
  u.batches_attempted = attempted.first;
  u.memories_attempted = attempted.second;
  u.batches_accepted = accepted.first;
  u.batches_rejected_for_size = rejected.first;
  u.max_batch_size_attempted = max;
  return u;
}

}  // namespace papr::storage
