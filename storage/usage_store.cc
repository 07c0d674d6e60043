#include "storage/usage_store.h"

#include <algorithm>
#include <chrono>

#include "common/log.h"
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

void UsageStore::Pending::Add(const Pending& o) {
  attempted += o.attempted, attempted_sum += o.attempted_sum;
  accepted += o.accepted, accepted_sum += o.accepted_sum;
  rejected += o.rejected, rejected_sum += o.rejected_sum;
  max = std::max(max, o.max);
}

UsageStore::UsageStore(Db* db, int64_t flush_interval_ms) : db_(db) {
  if (flush_interval_ms > 0) flusher_ = std::thread([this, flush_interval_ms] { FlushLoop(flush_interval_ms); });
}

UsageStore::~UsageStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  Status s = Flush();
  if (!s.ok()) log::Warn("usage counts not stored at stop", {{"error", s.ToString()}});
}

void UsageStore::FlushLoop(int64_t interval_ms) {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    stop_cv_.wait_for(lock, std::chrono::milliseconds(interval_ms), [this] { return stopping_; });
    if (stopping_ || pending_.empty()) continue;
    lock.unlock();
    Status s = Flush();
    if (!s.ok()) log::Warn("usage counts not stored yet", {{"error", s.ToString()}});
    lock.lock();
  }
}

Status UsageStore::RecordBatch(std::string_view user_id, int64_t size, Outcome outcome) {
  Pending p;
  p.attempted = 1, p.attempted_sum = size;
  if (outcome == Outcome::kAccepted) p.accepted = 1, p.accepted_sum = size;
  if (outcome == Outcome::kRejectedForSize) p.rejected = 1, p.rejected_sum = size;
  p.max = size;
  {
    std::lock_guard lock(mu_);
    pending_[std::string(user_id)].Add(p);
  }
  return flusher_.joinable() ? Status::Ok() : Flush();
}

Status UsageStore::Flush() {
  std::lock_guard flush_lock(flush_mu_);
  std::unordered_map<std::string, Pending> taken;
  {
    std::lock_guard lock(mu_);
    taken.swap(pending_);
  }
  if (taken.empty()) return Status::Ok();
  WriteBatch batch;
  Status s = Status::Ok();
  for (const auto& [user, p] : taken) {
    s = Stage(user, p, batch);
    if (!s.ok()) break;
  }
  batch.SetNoSync();
  if (s.ok()) s = db_->Write(batch);
  if (!s.ok()) {
    // Counted again by the next flush. A maximum staged above was not stored: forget it.
    std::lock_guard lock(mu_);
    for (const auto& [user, p] : taken) pending_[user].Add(p);
    std::lock_guard max_lock(max_mu_);
    for (const auto& [user, p] : taken) max_cache_.erase(user);
  }
  return s;
}

Status UsageStore::Stage(const std::string& user_id, const Pending& p, WriteBatch& batch) {
  int64_t raised_from = -1;  // >= 0: this write raises the maximum this process knew
  {
    std::lock_guard lock(max_mu_);
    auto it = max_cache_.find(user_id);
    if (it == max_cache_.end()) {
      ASSIGN_OR_RETURN(int64_t stored, StoredMax(user_id));
      it = max_cache_.emplace(user_id, stored).first;
    }
    if (p.max > it->second) {
      raised_from = it->second;
      it->second = p.max;
    }
  }
  batch.AddCounters(Table::kMeta, MetaCounterKey(kAttempted, user_id), p.attempted, p.attempted_sum);
  if (p.accepted > 0) {
    batch.AddCounters(Table::kMeta, MetaCounterKey(kAccepted, user_id), p.accepted, p.accepted_sum);
  }
  if (p.rejected > 0) {
    batch.AddCounters(Table::kMeta, MetaCounterKey(kRejected, user_id), p.rejected, p.rejected_sum);
  }
  if (raised_from >= 0) {
    // The maximum is a set of values (the largest counts): another writer's concurrent raise
    // is kept too, in any order. The value raised from is below this one: it may go.
    batch.Put(Table::kMeta, MetaMaxKey(kMax, user_id, static_cast<uint64_t>(p.max)), "");
    if (raised_from > 0) {
      batch.Delete(Table::kMeta, MetaMaxKey(kMax, user_id, static_cast<uint64_t>(raised_from)));
    }
  }
  return Status::Ok();
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
  std::lock_guard flush_lock(flush_mu_);
  Usage u;
  ASSIGN_OR_RETURN(auto attempted, db_->GetCounters(Table::kMeta, MetaCounterKey(kAttempted, user_id)));
  ASSIGN_OR_RETURN(auto accepted, db_->GetCounters(Table::kMeta, MetaCounterKey(kAccepted, user_id)));
  ASSIGN_OR_RETURN(auto rejected, db_->GetCounters(Table::kMeta, MetaCounterKey(kRejected, user_id)));
  ASSIGN_OR_RETURN(int64_t max, StoredMax(user_id));
  Pending p;
  {
    std::lock_guard lock(mu_);
    if (auto it = pending_.find(std::string(user_id)); it != pending_.end()) p = it->second;
  }
  u.batches_attempted = attempted.first + p.attempted;
  u.memories_attempted = attempted.second + p.attempted_sum;
  u.batches_accepted = accepted.first + p.accepted;
  u.batches_rejected_for_size = rejected.first + p.rejected;
  u.max_batch_size_attempted = std::max(max, p.max);
  return u;
}

}  // namespace papr::storage
