#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"

namespace papr::workflows {

//! Back-pressure on queued work: counts open (not yet settled) batches and their memories,
//! per user and in all, and refuses a new batch beyond the configured limits with
//! ResourceExhausted (the API's 429 + Retry-After) naming the limit.
//!
//! Counts are charged at admission and are an upper bound: a batch that settled is only
//! noticed when a limit would refuse, at which point the counted batches are re-read through
//! `remaining` (memories not yet processed; 0: settled, dropped from the counts) and the
//! check is repeated. So the hot path is one map update, and a refusal is always exact.
//! Refusals arriving together share one re-read (each waits for one that started after it was
//! refused) instead of each re-reading every counted batch (a herd of reads on a remote store).
//! Thread-safe.
class AdmissionControl {
 public:
  struct Limits {
    int64_t max_open_batches_per_user = 0;  // 0 or less: no limit
    int64_t max_open_batches = 0;
    int64_t max_queued_memories_per_user = 0;
    int64_t max_queued_memories = 0;
  };
  struct Usage {
    int64_t batches = 0, memories = 0;
  };
  using RemainingFn = std::function<int64_t(const std::string& batch_id)>;
  //! One user's own limits where they differ from `Limits`' per-user ones (a plan's), with
  //! the names a refusal gives them.
  struct UserLimits {
    int64_t max_open_batches = 0;
    int64_t max_queued_memories = 0;
    std::string open_batches_key = "limits.max_open_batches_per_user";
    std::string queued_memories_key = "limits.max_queued_memories_per_user";
  };
  using UserLimitsFn = std::function<UserLimits(const std::string& user)>;

  // `user_limits` (optional) gives each user's own limits; without it they are `limits`'.
  AdmissionControl(Limits limits, RemainingFn remaining, UserLimitsFn user_limits = nullptr);

  // Counts batch `batch_id` of `user` with `memories` queued memories, or ResourceExhausted
  // naming the limit it would pass (PayloadTooLarge when the batch alone is larger than a
  // memory limit: waiting would not help). A batch already counted is admitted again without a
  // second charge; `*reserved` says whether this call charged it (then the caller releases
  // it if the batch does not start).
  Status Admit(const std::string& user, const std::string& batch_id, int64_t memories,
               bool* reserved);
  // Counts an open batch found at start, without a limit check.
  void Restore(const std::string& user, const std::string& batch_id, int64_t memories);
  // Drops a batch from the counts (no-op when not counted).
  void Release(const std::string& batch_id);

  Usage UserUsage(const std::string& user) const;
  Usage GlobalUsage() const;
  // Refused admissions waiting for another's re-read of the counted batches (tests, stats).
  int64_t RefreshWaiters() const;

 private:
  struct Counted {
    std::string user;
    int64_t memories = 0;
  };
  // The limit that admitting `memories` more for `user` would pass, as a refusal; OK if none.
  // `*global` says whether it is a global limit. REQUIRES: mu_ held.
  Status Check(const std::string& user, int64_t memories, bool* global) const;
  void Charge(const std::string& user, const std::string& batch_id, int64_t memories);
  void Uncharge(const std::string& batch_id);
  // Re-reads the counted batches (of `user`, or all) and drops or shrinks settled ones.
  void Refresh(const std::string* user);
  // Refresh(user), or waits for the re-read under way when it covers `user`'s batches. True
  // when the re-read it saw finish started after this call (a refusal after it is exact).
  bool SharedRefresh(const std::string* user);

  const Limits limits_;
  const RemainingFn remaining_;
  const UserLimitsFn user_limits_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Counted> batches_;  // by batch id
  std::unordered_map<std::string, Usage> users_;
  Usage total_;
  // Counted batches at which the next admission re-reads them all.
  static constexpr int64_t kSweepAt = 10000;
  int64_t next_sweep_ = kSweepAt;
  // The one SharedRefresh under way (guarded by mu_): whose batches it reads ("" with
  // refresh_all_: everyone's), and how many were started and finished.
  std::condition_variable refreshed_;
  bool refreshing_ = false;
  bool refresh_all_ = false;
  std::string refresh_user_;
  int64_t refreshes_started_ = 0;
  int64_t refreshes_done_ = 0;
  int64_t refresh_waiters_ = 0;
};

}  // namespace papr::workflows
