// An execution whose commit failed is rebuilt from the store. After a failed commit its
// in-memory state may be ahead of disk (nothing applied) or exactly on it (the connection died
// during COMMIT after it applied: UnknownOutcome); the engine never guesses which. It keeps the
// broken execution in the map (requests to it answer Unavailable) and rebuilds it the way a
// restart would: load the history, replay, re-arm timers, re-dispatch open activities (whose
// effects are idempotent, as after a crash). Retried with backoff while the store is down.
#include <algorithm>

#include "common/log.h"
#include "engine/internal/engine_rep.h"

namespace papr::engine {
namespace {

constexpr int64_t kFirstRetryMs = 100;
constexpr int64_t kMaxRetryMs = 5000;

}  // namespace

void Engine::Rep::ScheduleRebuild(std::vector<std::string> ids) {
  {
    std::lock_guard lock(timer_mu);
    rebuild_pending.insert(std::make_move_iterator(ids.begin()),
                           std::make_move_iterator(ids.end()));
    metrics.rebuilds_pending = static_cast<int64_t>(rebuild_pending.size());
  }
  rebuild_cv.notify_all();
}

void Engine::Rep::RebuildLoop() {
  std::unique_lock lock(timer_mu);
  int64_t retry_ms = kFirstRetryMs;
  while (!stopping) {
    // A short pause first: a store that just failed is rarely back at once, and the ids of
    // one outage arrive together.
    rebuild_cv.wait_for(lock, std::chrono::milliseconds(retry_ms),
                        [&] { return stopping; });
    if (stopping) break;
    if (rebuild_pending.empty()) {
      retry_ms = kFirstRetryMs;
      rebuild_cv.wait(lock, [&] { return stopping || !rebuild_pending.empty(); });
      continue;
    }
    std::vector<std::string> ids(rebuild_pending.begin(), rebuild_pending.end());
    rebuild_pending.clear();
    lock.unlock();
    Status rebuilt = Rebuild(ids);
    lock.lock();
    if (rebuilt.ok()) {
      retry_ms = kFirstRetryMs;
    } else {
      log::Warn("rebuilding workflows failed; retrying",
                {{"workflows", std::to_string(ids.size())}, {"error", rebuilt.ToString()},
                 {"retry_ms", std::to_string(retry_ms)}});
      rebuild_pending.insert(ids.begin(), ids.end());
      retry_ms = std::min(retry_ms * 2, kMaxRetryMs);
    }
    metrics.rebuilds_pending = static_cast<int64_t>(rebuild_pending.size());
  }
}

Status Engine::Rep::Rebuild(const std::vector<std::string>& ids) {
  // A latched RocksDB (an I/O error, or a full disk until it resumes) would refuse the rebuilt
  // executions' commits too: wait instead of re-running their activities in a loop.
  if (db->writes_refused()) return Status::Unavailable("the database refuses writes");
  ASSIGN_OR_RETURN(const size_t resumed, ResumeReserved(ids));
  metrics.rebuilt_workflows += static_cast<int64_t>(resumed);
  log::Info("workflows rebuilt from the store after a failed commit",
            {{"workflows", std::to_string(resumed)}});
  return Status::Ok();
}

Result<size_t> Engine::Rep::ResumeReserved(const std::vector<std::string>& ids) {
  {
    // Reserved like a start: a start, a request or another resume of these ids waits.
    std::unique_lock lock(start_mu);
    start_cv.wait(lock, [&] {
      return std::none_of(ids.begin(), ids.end(), [&](const auto& id) { return starting.count(id); });
    });
    starting.insert(ids.begin(), ids.end());
  }
  Result<size_t> resumed = Resume(ids);
  {
    std::lock_guard lock(start_mu);
    for (const auto& id : ids) starting.erase(id);
  }
  start_cv.notify_all();
  return resumed;
}

}  // namespace papr::engine
