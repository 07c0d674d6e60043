#include <algorithm>
#include <chrono>
#include <deque>

#include "common/log.h"
#include "engine/crash_point.h"
#include "engine/internal/engine_rep.h"
#include "engine/internal/history_loader.h"

namespace papr::engine {

namespace internal {

std::string RetryTimerId(int64_t activity_id, int64_t attempt) {
  return "a:" + std::to_string(activity_id) + ":" + std::to_string(attempt);
}

bool ParseTimerId(std::string_view id, InboxItem* item) {
  try {
    if (id.substr(0, 2) == "a:") {
      std::string rest(id.substr(2));
      size_t colon = rest.find(':');
      item->kind = InboxItem::Kind::kActivityRetryDue;
      item->activity_id = std::stoll(rest.substr(0, colon));
      item->attempt = std::stoll(rest.substr(colon + 1));
      return true;
    }
    if (id.substr(0, 2) == "t:") {
      item->kind = InboxItem::Kind::kUserTimer;
      item->timer_id = std::stoll(std::string(id.substr(2)));
      return true;
    }
    if (id == "p:t" || id == "p:c") {
      item->kind = id == "p:t" ? InboxItem::Kind::kTerminate : InboxItem::Kind::kCancel;
      return true;
    }
  } catch (...) {
  }
  return false;
}

InboxItem ChildClosedItem(const ExecutionRecord& r) {
  InboxItem item;
  item.kind = InboxItem::Kind::kChildClosed;
  item.name = r.workflow_id;
  item.payload = r.result;
  item.child_progress = EncodeChildProgress(r);
  if (r.status == ExecutionStatus::kFailed || r.status == ExecutionStatus::kTerminated) {
    item.result.error = r.failure.empty() ? ExecutionStatusName(r.status) : r.failure;
  }
  return item;
}

}  // namespace internal

namespace {

// A parent-close request carries its outbox row: the commit that handles it deletes it.
bool DeleteOutboxRow(Execution& exec, const InboxItem& item) {
  if (item.timer_key.empty()) return false;
  exec.batch->Delete(Table::kTimers, item.timer_key);
  exec.timer_keys.erase(item.timer_key);
  return true;
}

}  // namespace

// ---- Inbox and runner

void Engine::Rep::Enqueue(const std::shared_ptr<Execution>& exec, InboxItem item) {
  bool schedule = false;
  {
    std::lock_guard lock(exec->inbox_mu);
    if (exec->broken) {  // being rebuilt (engine_rebuild.cc): its rebuilt self takes over
      if (item.committed) {
        item.committed->set_value(Status::Unavailable(
            "workflow " + exec->id() + " is being reloaded after a storage failure; retry"));
      }
      return;
    }
    if (exec->closed) {  // nothing runs for it any more: refuse instead of queueing
      if (item.committed) item.committed->set_value(AlreadyClosed(exec->record));
      return;
    }
    exec->inbox.push_back(std::move(item));
    if (!exec->queued) schedule = exec->queued = true;
  }
  if (schedule) runners.Push(exec);
}

void Engine::Rep::Run(const std::shared_ptr<Execution>& exec) {
  std::deque<InboxItem> items;
  {
    std::lock_guard lock(exec->inbox_mu);
    items.swap(exec->inbox);
  }
  storage::WriteBatch wb;
  exec->batch = &wb;
  exec->effects = {};
  exec->new_events.clear();
  exec->closed_now = false;
  ExecutionStatus before = exec->record.status;
  bool changed = false;
  // Requests behind the closing item (or after the close) are refused, not acknowledged.
  std::vector<std::shared_ptr<std::promise<Status>>> waiting, refused;
  for (auto& item : items) {
    bool open = exec->record.status == ExecutionStatus::kRunning;
    if (item.committed) (open ? waiting : refused).push_back(item.committed);
    if (!item.inbox_key.empty()) {  // applied or refused: either way the row is done
      wb.Delete(Table::kInbox, item.inbox_key);
      changed = true;
    }
    if (!open) {
      // A parent's close request that reached an already closed child: drop its row.
      if (!item.timer_key.empty() && (item.kind == InboxItem::Kind::kTerminate ||
                                      item.kind == InboxItem::Kind::kCancel)) {
        changed = DeleteOutboxRow(*exec, item) || changed;
      }
      continue;
    }
    exec->now_ms = Now();
    changed = ApplyInbox(*exec, item) || changed;
  }
  exec->batch = nullptr;
  std::vector<std::shared_ptr<Execution>> children = StageChildren(*exec, wb);
  Status committed = changed ? Commit(*exec, wb, before) : Status::Ok();
  // Everything that reads `exec` happens before the runner gives it up below.
  bool closed = exec->record.status != ExecutionStatus::kRunning;
  // Counted and logged once: by the transition that closed it, once durable.
  bool closed_here = closed && before == ExecutionStatus::kRunning && committed.ok();
  Status refusal = closed ? AlreadyClosed(exec->record) : Status::Ok();
  Launch launch = committed.ok() ? Prepare(exec, std::move(exec->effects)) : Launch{};
  if (committed.ok()) launch.new_children = std::move(children);
  std::vector<std::function<void()>> listeners;
  bool requeue = false;
  {
    std::lock_guard lock(exec->inbox_mu);
    if (!committed.ok()) exec->broken = true;
    exec->closed = closed && committed.ok();
    if (closed_here && !exec->committed_row.empty()) {
      closed_rows.Put(exec->id(), exec->committed_row, Now());
    }
    if (changed) listeners.swap(exec->listeners);
    requeue = !exec->inbox.empty() && !exec->broken;
    exec->queued = requeue;
  }
  if (closed && before == ExecutionStatus::kRunning) {
    std::lock_guard lock(mu);
    auto it = executions.find(exec->id());
    if (it != executions.end() && it->second == exec) executions.erase(it);
  }
  if (committed.code() == StatusCode::kOwnershipLost) {
    // Another node owns the shard now and runs the execution from the store.
    std::lock_guard lock(mu);
    auto it = executions.find(exec->id());
    if (it != executions.end() && it->second == exec) executions.erase(it);
  } else if (!committed.ok()) {
    // (After `broken` is set and the map updated: a rebuild skips a live execution.)
    // Memory is ahead of the store (or, UnknownOutcome, maybe not): rebuild from the store,
    // with the children this commit may have created. Other failures applied nothing, and a
    // child id an AlreadyExists names is another writer's.
    std::vector<std::string> rebuild{exec->id()};
    if (committed.code() == StatusCode::kUnknownOutcome) {
      for (const auto& child : children) rebuild.push_back(child->id());
    }
    ScheduleRebuild(std::move(rebuild));
  }
  if (closed_here) NoteClosed(*exec);
  Start(std::move(launch));
  for (auto& w : waiting) w->set_value(committed);
  for (auto& r : refused) r->set_value(refusal);
  for (auto& fn : listeners) fn();
  if (requeue) runners.Push(exec);
}

void Engine::Rep::NoteClosed(const Execution& exec) {
  closed_by_status[static_cast<size_t>(exec.record.status)]++;
  log::Info("workflow closed", {{"workflow_id", exec.id()},
                                {"workflow_type", exec.record.workflow_type},
                                {"status", ExecutionStatusName(exec.record.status)},
                                {"events", std::to_string(exec.record.next_event_id - 1)}});
}

bool Engine::Rep::ApplyInbox(Execution& exec, InboxItem& item) {
  using Kind = InboxItem::Kind;
  switch (item.kind) {
    case Kind::kStartCoroutine: {
      auto started = internal::LoadFirstEvent(*db, exec.id());
      if (!started.ok()) return false;
      exec.now_ms = started->time_ms;  // as a replay will see it
      exec.StartCoroutine(workflows.at(exec.record.workflow_type), started->payload);
      return true;
    }
    case Kind::kChildClosed: {
      if (exec.children.count(item.name) == 0) return false;  // already recorded
      HistoryEvent& e = exec.AppendEvent(EventType::kChildWorkflowExecutionCompleted);
      e.child_workflow_id = item.name;
      e.payload = item.payload;
      e.failure = item.result.error;
      e.child_progress = item.child_progress;
      exec.ApplyObserved(HistoryEvent(e));
      return true;
    }
    case Kind::kActivityResult:
      return ApplyActivityResult(exec, item);
    case Kind::kActivityDeadline:
      return ApplyActivityDeadline(exec, item);
    case Kind::kHeartbeatCheck:
      return ApplyHeartbeatCheck(exec, item);
    case Kind::kActivityRetryDue: {
      if (exec.timer_keys.erase(item.timer_key) == 0) return false;  // not this execution's
      exec.batch->Delete(Table::kTimers, item.timer_key);
      auto it = exec.activities.find(item.activity_id);
      if (it != exec.activities.end() && it->second.backing_off &&
          it->second.attempt == item.attempt) {
        it->second.backing_off = false;
        ActivityRecord row{item.activity_id, ActivityState::kBackingOff, item.attempt - 1, "", "",
                           0, 0};
        PutActivityRow(*exec.batch, exec.id(), row);  // next_attempt_ms 0: attempt running
        exec.effects.dispatches.push_back({item.activity_id, item.attempt});
      }
      return true;
    }
    case Kind::kUserTimer: {
      // Only a timer this execution armed (same row key) counts: an earlier execution of the
      // same id may have left one in memory.
      if (exec.timer_keys.erase(item.timer_key) == 0) return false;
      exec.batch->Delete(Table::kTimers, item.timer_key);
      if (exec.pending_user_timers.erase(item.timer_id) == 0) return true;
      HistoryEvent& e = exec.AppendEvent(EventType::kTimerFired);
      e.timer_id = item.timer_id;
      exec.ApplyObserved(HistoryEvent(e));
      return true;
    }
    case Kind::kSignal: {
      HistoryEvent& e = exec.AppendEvent(EventType::kWorkflowExecutionSignaled);
      e.signal_name = item.name;
      e.payload = item.payload;
      exec.ApplyObserved(HistoryEvent(e));
      return true;
    }
    case Kind::kCancel: {
      bool outbox = DeleteOutboxRow(exec, item);
      if (exec.record.cancel_requested) return outbox;
      HistoryEvent& e = exec.AppendEvent(EventType::kWorkflowExecutionCancelRequested);
      e.reason = item.payload;
      exec.ApplyObserved(HistoryEvent(e));
      return true;
    }
    case Kind::kTerminate: {
      DeleteOutboxRow(exec, item);
      HistoryEvent& e = exec.AppendEvent(EventType::kWorkflowExecutionTerminated);
      e.reason = item.payload;
      exec.ApplyObserved(HistoryEvent(e));
      return true;
    }
  }
  return false;
}

bool Engine::Rep::ApplyActivityResult(Execution& exec, InboxItem& item) {
  auto it = exec.activities.find(item.activity_id);
  // Fencing: a result of an attempt that is no longer current (timed out, or from before a
  // retry) is dropped.
  if (it == exec.activities.end() || it->second.backing_off ||
      it->second.attempt != item.attempt) {
    return false;
  }
  auto& a = it->second;
  const ActivityResult& r = item.result;
  int64_t now = exec.now_ms;
  bool past_deadline = a.options.schedule_to_close_timeout_ms > 0 &&
                       now - a.scheduled_ms >= a.options.schedule_to_close_timeout_ms;
  if (!r.ok && !r.non_retryable && !past_deadline &&
      ShouldRetry(a.options.retry, a.attempt, r.error_type)) {
    a.attempt++;
    a.last_error = r.error;
    exec.record.activity_retries++;
    metrics.activity_retries++;
    int64_t delay = RetryDelayMs(a.options.retry, a.attempt);
    ActivityRecord row{item.activity_id, ActivityState::kBackingOff, a.attempt - 1, "", r.error,
                       0, 0};
    if (delay <= 0) {
      exec.effects.dispatches.push_back({item.activity_id, a.attempt});
    } else {
      a.backing_off = true;
      row.next_attempt_ms = now + delay;
      std::string key = storage::TimerKey(static_cast<uint64_t>(now + delay), exec.id(),
                                          RetryTimerId(item.activity_id, a.attempt));
      exec.batch->Put(Table::kTimers, key, "");
      exec.timer_keys.insert(key);
      InboxItem due;
      due.kind = InboxItem::Kind::kActivityRetryDue;
      due.activity_id = item.activity_id;
      due.attempt = a.attempt;
      due.timer_key = key;
      exec.effects.timers.push_back({now + delay, key, due});
    }
    PutActivityRow(*exec.batch, exec.id(), row);
    return true;
  }
  if (!r.ok) metrics.activities_failed++;
  int64_t scheduled_event_id = a.scheduled_event_id;
  HistoryEvent& started = exec.AppendEvent(EventType::kActivityTaskStarted);
  started.activity_id = item.activity_id;
  started.scheduled_event_id = scheduled_event_id;
  started.attempt = item.attempt;
  EventType final_type = r.ok            ? EventType::kActivityTaskCompleted
                         : past_deadline ? EventType::kActivityTaskTimedOut
                                         : EventType::kActivityTaskFailed;
  HistoryEvent& done = exec.AppendEvent(final_type);
  done.activity_id = item.activity_id;
  done.scheduled_event_id = scheduled_event_id;
  done.attempt = item.attempt;
  if (r.ok) {
    done.payload = r.payload;
    if (r.writes) exec.batch->Append(*r.writes);
  } else {
    done.failure = past_deadline ? "schedule-to-close timeout; last error: " + r.error : r.error;
    done.failure_type = r.error_type;
  }
  ActivityRecord row{item.activity_id,
                     r.ok ? ActivityState::kSucceeded : ActivityState::kFailed,
                     item.attempt,
                     r.payload,
                     done.failure,
                     0,
                     now};
  PutActivityRow(*exec.batch, exec.id(), row);
  exec.ApplyObserved(HistoryEvent(done));
  return true;
}

Engine::Rep::Launch Engine::Rep::Prepare(const std::shared_ptr<Execution>& exec,
                                          Effects effects) {
  Launch launch;
  for (const auto& d : effects.dispatches) {
    auto it = exec->activities.find(d.activity_id);
    if (it == exec->activities.end()) continue;
    ActivityCall call{exec->id(), it->second.type, d.activity_id, d.attempt, d.resumed,
                      it->second.input, {}};
    ArmActivityTimeouts(it->second, call, launch.timers);
    launch.tasks.push_back({exec, std::move(call)});
    int64_t timeout = it->second.options.start_to_close_timeout_ms;
    if (timeout > 0) {
      InboxItem late;
      late.kind = InboxItem::Kind::kActivityResult;
      late.activity_id = d.activity_id;
      late.attempt = d.attempt;
      late.result = ActivityResult::Error(
          "start-to-close timeout after " + std::to_string(timeout) + " ms",
          "StartToCloseTimeout", false);
      launch.timers.push_back({Now() + timeout, exec->id(), std::move(late)});
    }
  }
  for (auto& t : effects.timers) {
    t.item.timer_key = t.timer_key;
    launch.timers.push_back({t.fire_ms, exec->id(), std::move(t.item)});
  }
  if (effects.cancel_children && exec->record.status == ExecutionStatus::kRunning) {
    for (const auto& [child_id, child] : exec->children) launch.cancel_children.push_back(child_id);
  }
  launch.parent_close = std::move(effects.parent_close);
  const ExecutionRecord& r = exec->record;
  launch.self = exec;
  launch.self_items = std::move(effects.self_items);
  if (r.status != ExecutionStatus::kRunning && !r.parent_workflow_id.empty()) {
    launch.notify_parent = r.parent_workflow_id;
    launch.parent_item = ChildClosedItem(r);
  }
  return launch;
}

void Engine::Rep::Start(Launch launch) {
  for (auto& child : launch.new_children) {
    if (Publish(child) != child) continue;  // the id is live already (StageChildren failed it)
    InboxItem first;
    first.kind = InboxItem::Kind::kStartCoroutine;
    Enqueue(child, std::move(first));
  }
  for (auto& t : launch.timers) Arm(t.fire_ms, t.workflow_id, std::move(t.item));
  std::vector<ActivityTask> compute, io;
  for (auto& task : launch.tasks) {
    bool blocking = io_activity_types.count(task.call.activity_type) > 0;
    (blocking ? io : compute).push_back(std::move(task));
  }
  workers.PushAll(std::move(compute));
  io_workers.PushAll(std::move(io));
  for (const auto& id : launch.cancel_children) {
    if (auto child = Find(id)) {
      InboxItem item;
      item.kind = InboxItem::Kind::kCancel;
      item.payload = "parent cancelled";
      Enqueue(child, std::move(item));
    }
  }
  // A child that is not live now (closing, or not resumable) finds its row at the next start.
  for (auto& request : launch.parent_close) {
    if (auto child = Find(request.child_id)) Enqueue(child, std::move(request.item));
  }
  if (!launch.notify_parent.empty()) {
    if (auto parent = Find(launch.notify_parent)) Enqueue(parent, std::move(launch.parent_item));
  }
  for (auto& item : launch.self_items) Enqueue(launch.self, std::move(item));
}

void Engine::Rep::RunActivity(ActivityTask& task) {
  InboxItem item;
  item.kind = InboxItem::Kind::kActivityResult;
  item.activity_id = task.call.activity_id;
  item.attempt = task.call.attempt;
  auto fn = activity_fns.find(task.call.activity_type);
  if (fn == activity_fns.end()) {
    item.result = ActivityResult::Error("no activity registered as " + task.call.activity_type,
                                        "ActivityNotRegistered", true);
  } else {
    try {
      auto started = std::chrono::steady_clock::now();
      item.result = fn->second(task.call);
      metrics.activity_seconds.Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    } catch (const std::exception& ex) {
      item.result = ActivityResult::Error(std::string("activity threw: ") + ex.what(),
                                          "Exception", false);
    }
  }
  metrics.activity_attempts++;
  if (!item.result.ok) metrics.activity_attempt_failures++;
  Enqueue(task.execution, std::move(item));
}

// ---- Timers

void Engine::Rep::Arm(int64_t fire_ms, const std::string& workflow_id, InboxItem item) {
  {
    std::lock_guard lock(timer_mu);
    timers.push({fire_ms, workflow_id, std::move(item)});
  }
  timer_cv.notify_one();
}

void Engine::Rep::TimerLoop() {
  std::unique_lock lock(timer_mu);
  while (!stopping) {
    if (timers.empty()) {
      timer_cv.wait(lock);
      continue;
    }
    int64_t wait_ms = timers.top().fire_ms - Now();
    if (wait_ms > 0) {
      timer_cv.wait_for(lock, std::chrono::milliseconds(std::min<int64_t>(wait_ms, 1000)));
      continue;
    }
    TimerEntry entry = timers.top();
    timers.pop();
    lock.unlock();
    if (auto exec = Find(entry.workflow_id)) Enqueue(exec, std::move(entry.item));
    lock.lock();
  }
}

}  // namespace papr::engine
