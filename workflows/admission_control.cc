#include "workflows/admission_control.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace papr::workflows {
namespace {

bool Over(int64_t limit, int64_t value) { return limit > 0 && value > limit; }

Status Refusal(const std::string& key, int64_t limit, int64_t current, const char* what) {
  return Status::ResourceExhausted("limit " + std::string(key) + " (" + std::to_string(limit) +
                                   ") reached: " + std::to_string(current) + " " + what +
                                   "; retry when open batches have finished");
}

}  // namespace

AdmissionControl::AdmissionControl(Limits limits, RemainingFn remaining,
                                   UserLimitsFn user_limits)
    : limits_(limits), remaining_(std::move(remaining)), user_limits_(std::move(user_limits)) {}

Status AdmissionControl::Check(const std::string& user, int64_t memories, bool* global) const {
  auto it = users_.find(user);
  Usage mine = it == users_.end() ? Usage{} : it->second;
  UserLimits own;
  own.max_open_batches = limits_.max_open_batches_per_user;
  own.max_queued_memories = limits_.max_queued_memories_per_user;
  if (user_limits_) own = user_limits_(user);
  // A table of the four limits, per user first (a user over its own share is told so).
  struct Row {
    std::string key;
    int64_t limit, current, added;
    const char* what;
    bool global;
  };
  const Row rows[] = {
      {own.open_batches_key, own.max_open_batches, mine.batches, 1,
       "batches of this user are open", false},
      {own.queued_memories_key, own.max_queued_memories, mine.memories, memories,
       "memories of this user are queued", false},
      {"limits.max_open_batches", limits_.max_open_batches, total_.batches, 1,
       "batches are open", true},
      {"limits.max_queued_memories", limits_.max_queued_memories, total_.memories, memories,
       "memories are queued", true},
  };
  for (const Row& r : rows) {
    if (Over(r.limit, r.added)) {  // never fits: waiting would not help
      return Status::PayloadTooLarge("batch of " + std::to_string(r.added) +
                                     " memories is larger than limit " + r.key + " (" +
                                     std::to_string(r.limit) + ")");
    }
    if (Over(r.limit, r.current + r.added)) {
      *global = r.global;
      return Refusal(r.key, r.limit, r.current, r.what);
    }
  }
  return Status::Ok();
}

Status AdmissionControl::Admit(const std::string& user, const std::string& batch_id,
                               int64_t memories, bool* reserved) {
  *reserved = false;
  bool global = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (batches_.count(batch_id) != 0) return Status::Ok();
    Status fits = Check(user, memories, &global);
    if (fits.ok()) {
      Charge(user, batch_id, memories);
      *reserved = true;
      if (total_.batches < next_sweep_) return Status::Ok();
      next_sweep_ = std::numeric_limits<int64_t>::max();  // one sweep at a time
    }
    if (fits.code() == StatusCode::kPayloadTooLarge) return fits;
  }
  if (*reserved) {
    // Far more counted than any limit refused: drop the settled ones (the map stays bounded
    // with no limits configured too), in amortized O(1) reads per admission.
    Refresh(nullptr);
    std::lock_guard<std::mutex> lock(mu_);
    next_sweep_ = std::max(kSweepAt, 2 * total_.batches);
    return Status::Ok();
  }
  // Settled batches may still be counted: re-read the user's, then (if a global limit still
  // refuses) everyone's.
  for (bool refreshed_all = false;;) {
    bool all = global;
    bool fresh = SharedRefresh(all ? nullptr : &user);
    refreshed_all = refreshed_all || (fresh && all);
    std::lock_guard<std::mutex> lock(mu_);
    if (batches_.count(batch_id) != 0) return Status::Ok();
    Status fits = Check(user, memories, &global);
    if (fits.ok()) {
      Charge(user, batch_id, memories);
      *reserved = true;
      return Status::Ok();
    }
    // A re-read that started before this refusal may have missed a batch settling since.
    if (fresh && (!global || refreshed_all)) return fits;
  }
}

bool AdmissionControl::SharedRefresh(const std::string* user) {
  std::unique_lock<std::mutex> lock(mu_);
  const int64_t arrived = refreshes_started_;
  while (refreshing_) {
    bool covers = refresh_all_ || (user != nullptr && refresh_user_ == *user);
    int64_t joined = refreshes_started_;
    ++refresh_waiters_;
    refreshed_.wait(lock, [&] { return refreshes_done_ >= joined; });
    --refresh_waiters_;
    if (covers) return joined > arrived;
  }
  refreshing_ = true;
  refresh_all_ = user == nullptr;
  refresh_user_ = user == nullptr ? "" : *user;
  ++refreshes_started_;
  lock.unlock();
  Refresh(user);
  lock.lock();
  refreshing_ = false;
  ++refreshes_done_;
  lock.unlock();
  refreshed_.notify_all();
  return true;
}

void AdmissionControl::Restore(const std::string& user, const std::string& batch_id,
                               int64_t memories) {
  std::lock_guard<std::mutex> lock(mu_);
  if (batches_.count(batch_id) == 0) Charge(user, batch_id, memories);
}

void AdmissionControl::Release(const std::string& batch_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Uncharge(batch_id);
}

void AdmissionControl::Charge(const std::string& user, const std::string& batch_id,
                              int64_t memories) {
  batches_[batch_id] = {user, memories};
  Usage& mine = users_[user];
  mine.batches++;
  mine.memories += memories;
  total_.batches++;
  total_.memories += memories;
}

void AdmissionControl::Uncharge(const std::string& batch_id) {
  auto it = batches_.find(batch_id);
  if (it == batches_.end()) return;
  auto user = users_.find(it->second.user);
  user->second.batches--;
  user->second.memories -= it->second.memories;
  if (user->second.batches == 0) users_.erase(user);
  total_.batches--;
  total_.memories -= it->second.memories;
  batches_.erase(it);
}

void AdmissionControl::Refresh(const std::string* user) {
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, counted] : batches_) {
      if (user == nullptr || counted.user == *user) ids.push_back(id);
    }
  }
  // Read without the lock (each is a lookup of the batch's state).
  std::vector<std::pair<std::string, int64_t>> now;
  now.reserve(ids.size());
  for (auto& id : ids) {
    int64_t left = remaining_(id);
    now.emplace_back(std::move(id), left);
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, left] : now) {
    auto it = batches_.find(id);
    if (it == batches_.end()) continue;
    if (left <= 0) {
      Uncharge(id);
      continue;
    }
    int64_t drop = it->second.memories - std::min(left, it->second.memories);
    it->second.memories -= drop;
    users_[it->second.user].memories -= drop;
    total_.memories -= drop;
  }
}

AdmissionControl::Usage AdmissionControl::UserUsage(const std::string& user) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = users_.find(user);
  return it == users_.end() ? Usage{} : it->second;
}

int64_t AdmissionControl::RefreshWaiters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return refresh_waiters_;
}

AdmissionControl::Usage AdmissionControl::GlobalUsage() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}

}  // namespace papr::workflows
