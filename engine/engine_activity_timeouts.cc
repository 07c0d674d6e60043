// Activity timeouts enforced by timers rather than by the arrival of a result: the
// schedule-to-close deadline (an attempt may hang for ever) and heartbeats. Heartbeats stay in
// memory (as in Temporal, not every heartbeat is history); only the timeout they lead to is.
#include "engine/internal/engine_rep.h"

namespace papr::engine {

void Engine::Rep::ArmActivityTimeouts(internal::PendingActivity& a, ActivityCall& call,
                                      std::vector<TimerEntry>& timers) {
  const ActivityOptions& o = a.options;
  if (o.schedule_to_close_timeout_ms > 0) {
    // Absolute from scheduling: a retry (or a recovery) arms the same deadline again.
    InboxItem deadline;
    deadline.kind = InboxItem::Kind::kActivityDeadline;
    deadline.activity_id = call.activity_id;
    timers.push_back({a.scheduled_ms + o.schedule_to_close_timeout_ms, call.workflow_id,
                      std::move(deadline)});
  }
  if (o.heartbeat_timeout_ms > 0) {
    auto last = std::make_shared<std::atomic<int64_t>>(Now());  // dispatch counts as alive
    a.last_heartbeat_ms = last;
    const Clock* clock = options.clock;
    call.heartbeat = [last, clock] { last->store(clock->NowMillis(), std::memory_order_relaxed); };
    InboxItem check;
    check.kind = InboxItem::Kind::kHeartbeatCheck;
    check.activity_id = call.activity_id;
    check.attempt = call.attempt;
    timers.push_back({last->load() + o.heartbeat_timeout_ms, call.workflow_id, std::move(check)});
  }
}

bool Engine::Rep::ApplyActivityDeadline(Execution& exec, InboxItem& item) {
  auto it = exec.activities.find(item.activity_id);
  if (it == exec.activities.end()) return false;  // already finished
  internal::PendingActivity& a = it->second;
  int64_t timeout = a.options.schedule_to_close_timeout_ms;
  if (timeout <= 0 || exec.now_ms < a.scheduled_ms + timeout) return false;
  // Recorded as the outcome of the current attempt, running or backing off; its late result
  // is then fenced off (the activity is no longer pending).
  a.backing_off = false;
  item.kind = InboxItem::Kind::kActivityResult;
  item.attempt = a.attempt;
  std::string error = !a.last_error.empty()
                          ? a.last_error
                          : "attempt " + std::to_string(a.attempt) + " did not finish within " +
                                std::to_string(timeout) + " ms";
  item.result = ActivityResult::Error(std::move(error), "ScheduleToCloseTimeout", true);
  return ApplyActivityResult(exec, item);
}

bool Engine::Rep::ApplyHeartbeatCheck(Execution& exec, InboxItem& item) {
  auto it = exec.activities.find(item.activity_id);
  if (it == exec.activities.end()) return false;
  internal::PendingActivity& a = it->second;
  if (a.backing_off || a.attempt != item.attempt || !a.last_heartbeat_ms) return false;
  int64_t timeout = a.options.heartbeat_timeout_ms;
  int64_t last = a.last_heartbeat_ms->load(std::memory_order_relaxed);
  if (exec.now_ms - last < timeout) {
    exec.effects.timers.push_back({last + timeout, "", item});  // look again then
    return false;
  }
  item.kind = InboxItem::Kind::kActivityResult;
  item.result = ActivityResult::Error(
      "heartbeat timeout: no heartbeat for " + std::to_string(exec.now_ms - last) + " ms",
      "HeartbeatTimeout", false);
  return ApplyActivityResult(exec, item);
}

}  // namespace papr::engine
