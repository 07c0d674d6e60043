#include "storage/usage_store.h"

#include "storage/keys.h"

namespace papr::storage {
namespace {
// Counter pairs in kMeta: (count, sum) per name.
constexpr std::string_view kAttempted = "usage.attempted";
constexpr std::string_view kAccepted = "usage.accepted";
constexpr std::string_view kRejected = "usage.rejected_size";
constexpr std::string_view kMax = "usage.max_attempted";
}  // namespace

Status UsageStore::RecordBatch(std::string_view user_id, int64_t size, Outcome outcome) {
  int64_t raise_by = 0;
  {
    std::lock_guard lock(max_mu_);
    auto it = max_cache_.find(std::string(user_id));
    if (it == max_cache_.end()) {
      ASSIGN_OR_RETURN(auto stored, db_->GetCounters(Table::kMeta, MetaCounterKey(kMax, user_id)));
      it = max_cache_.emplace(std::string(user_id), stored.first).first;
    }
    if (size > it->second) {
      raise_by = size - it->second;
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
  if (raise_by > 0) batch.AddCounters(Table::kMeta, MetaCounterKey(kMax, user_id), raise_by, 0);
  batch.SetNoSync();
  return db_->Write(batch);
}

Result<Usage> UsageStore::Get(std::string_view user_id) const {
  Usage u;
  ASSIGN_OR_RETURN(auto attempted, db_->GetCounters(Table::kMeta, MetaCounterKey(kAttempted, user_id)));
  ASSIGN_OR_RETURN(auto accepted, db_->GetCounters(Table::kMeta, MetaCounterKey(kAccepted, user_id)));
  ASSIGN_OR_RETURN(auto rejected, db_->GetCounters(Table::kMeta, MetaCounterKey(kRejected, user_id)));
  ASSIGN_OR_RETURN(auto max, db_->GetCounters(Table::kMeta, MetaCounterKey(kMax, user_id)));
  u.batches_attempted = attempted.first;
  u.memories_attempted = attempted.second;
  u.batches_accepted = accepted.first;
  u.batches_rejected_for_size = rejected.first;
  u.max_batch_size_attempted = max.first;
  return u;
}

}  // namespace papr::storage
