#include "engine/engine.h"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/log.h"
#include "engine/crash_point.h"
#include "engine/engine_metrics.h"
#include "engine/internal/execution.h"
#include "storage/keys.h"

namespace papr::engine {
namespace {

using internal::Effects;
using internal::Execution;
using internal::InboxItem;
using storage::Table;

std::string RetryTimerId(int64_t activity_id, int64_t attempt) {
  return "a:" + std::to_string(activity_id) + ":" + std::to_string(attempt);
}

// Parses the timer ids written by this file back into inbox items.
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
  } catch (...) {
  }
  return false;
}

bool IsCommandEvent(EventType t) {
  switch (t) {
    case EventType::kActivityTaskScheduled:
    case EventType::kTimerStarted:
    case EventType::kMarkerRecorded:
    case EventType::kStartChildWorkflowExecutionInitiated:
    case EventType::kWorkflowExecutionCompleted:
    case EventType::kWorkflowExecutionFailed:
    case EventType::kWorkflowExecutionCanceled:
      return true;
    default:
      return false;
  }
}

// The parent's inbox item telling that child `r` closed.
InboxItem ChildClosedItem(const ExecutionRecord& r) {
  InboxItem item;
  item.kind = InboxItem::Kind::kChildClosed;
  item.name = r.workflow_id;
  item.payload = r.result;
  if (r.status == ExecutionStatus::kFailed || r.status == ExecutionStatus::kTerminated) {
    item.result.error = r.failure.empty() ? ExecutionStatusName(r.status) : r.failure;
  }
  return item;
}

struct ActivityTask {
  std::shared_ptr<Execution> execution;
  ActivityCall call;
};

struct TimerEntry {
  int64_t fire_ms;
  std::string workflow_id;
  InboxItem item;
  bool operator>(const TimerEntry& o) const { return fire_ms > o.fire_ms; }
};

//! A fixed set of threads taking jobs from one queue.
template <typename Job>
class WorkQueue {
 public:
  void Start(int threads, std::function<void(Job&)> run) {
    run_ = std::move(run);
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
  }
  void Push(Job job) {
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void Loop() {
    while (true) {
      Job job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (stopping_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      run_(job);
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::function<void(Job&)> run_;
};

}  // namespace

struct Engine::Rep {
  storage::Db* db;
  EngineOptions options;
  std::unordered_map<std::string, WorkflowFn> workflows;
  std::unordered_map<std::string, ActivityFn> activity_fns;

  mutable std::mutex mu;  // executions map
  std::unordered_map<std::string, std::shared_ptr<Execution>> executions;
  std::mutex start_mu;  // guards `starting`
  std::unordered_set<std::string> starting;  // ids whose start is being committed

  WorkQueue<std::shared_ptr<Execution>> runners;
  WorkQueue<ActivityTask> workers;     // compute activities
  WorkQueue<ActivityTask> io_workers;  // activities that block on the network
  std::unordered_set<std::string> io_activity_types;

  std::mutex timer_mu;
  std::condition_variable timer_cv;
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timers;
  std::thread timer_thread;
  bool stopping = false;
  std::atomic<bool> is_ready{false};
  EngineMetrics metrics;
  std::array<std::atomic<int64_t>, 6> closed_by_status{};  // index: ExecutionStatus
  bool started = false;

  int64_t Now() const { return options.clock->NowMillis(); }
  std::shared_ptr<Execution> Find(const std::string& id) const {
    std::lock_guard lock(mu);
    auto it = executions.find(id);
    return it == executions.end() ? nullptr : it->second;
  }
  void Enqueue(const std::shared_ptr<Execution>& exec, InboxItem item);
  Status Deliver(const std::string& id, InboxItem item);
  Result<ExecutionRecord> Describe(const std::string& id) const;
  void Run(const std::shared_ptr<Execution>& exec);
  bool ApplyInbox(Execution& exec, InboxItem& item);
  bool ApplyActivityResult(Execution& exec, InboxItem& item);
  Status Commit(Execution& exec, storage::WriteBatch& wb, ExecutionStatus status_before);
  //! Effects made self-contained (copies of activity inputs), so they can be launched after
  //! the runner gave up the execution.
  struct Launch {
    std::vector<ActivityTask> tasks;
    std::vector<TimerEntry> timers;
    std::vector<std::shared_ptr<Execution>> new_children;  // publish, then start them
    std::vector<std::string> cancel_children;
    bool terminate_children = false;  // terminate instead of cancel
    std::string notify_parent;  // closed child: tell this parent
    InboxItem parent_item;
    std::shared_ptr<Execution> self;
    std::vector<InboxItem> self_items;  // e.g. a child that could not start
  };
  // Creates the children `exec` started in this transition, staging their first writes in
  // `wb` (one commit with the parent's Initiated events).
  std::vector<std::shared_ptr<Execution>> StageChildren(Execution& exec, storage::WriteBatch& wb);
  void StageNew(Execution& exec, storage::WriteBatch& wb);
  // REQUIRES: the caller owns `exec` (its runner, or the starter before publishing it).
  Launch Prepare(const std::shared_ptr<Execution>& exec, Effects effects);
  void Start(Launch launch);
  void Arm(int64_t fire_ms, const std::string& workflow_id, InboxItem item);
  void TimerLoop();
  void RunActivity(ActivityTask& task);
  Status Recover();
  Status Replay(Execution& exec, const std::vector<HistoryEvent>& history) const;
  void PutActivityRow(storage::WriteBatch& wb, const std::string& id, const ActivityRecord& r) {
    wb.Put(Table::kActivities, storage::ActivityKey(id, static_cast<uint64_t>(r.activity_id)),
           EncodeActivityRecord(r));
  }
};

// ---- Inbox and runner

void Engine::Rep::Enqueue(const std::shared_ptr<Execution>& exec, InboxItem item) {
  bool schedule = false;
  {
    std::lock_guard lock(exec->inbox_mu);
    if (exec->broken) {
      if (item.committed) {
        item.committed->set_value(Status::Unavailable(
            "workflow " + exec->id() + " is stopped after a storage failure; restart the server"));
      }
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
  std::vector<std::shared_ptr<std::promise<Status>>> waiting;
  for (auto& item : items) {
    if (item.committed) waiting.push_back(item.committed);
    if (exec->record.status != ExecutionStatus::kRunning) continue;
    exec->now_ms = Now();
    changed = ApplyInbox(*exec, item) || changed;
  }
  exec->batch = nullptr;
  std::vector<std::shared_ptr<Execution>> children = StageChildren(*exec, wb);
  Status committed = changed ? Commit(*exec, wb, before) : Status::Ok();
  // Everything that reads `exec` happens before the runner gives it up below.
  bool closed = exec->record.status != ExecutionStatus::kRunning;
  Launch launch = committed.ok() ? Prepare(exec, std::move(exec->effects)) : Launch{};
  if (committed.ok()) launch.new_children = std::move(children);
  std::vector<std::function<void()>> listeners;
  bool requeue = false;
  {
    std::lock_guard lock(exec->inbox_mu);
    if (!committed.ok()) exec->broken = true;
    exec->closed = closed && committed.ok();
    if (changed) listeners.swap(exec->listeners);
    requeue = !exec->inbox.empty() && !exec->broken;
    exec->queued = requeue;
  }
  if (closed) {
    {
      std::lock_guard lock(mu);
      executions.erase(exec->id());
    }
    closed_by_status[static_cast<size_t>(exec->record.status)]++;
    log::Info("workflow closed", {{"workflow_id", exec->id()},
                                  {"workflow_type", exec->record.workflow_type},
                                  {"status", ExecutionStatusName(exec->record.status)},
                                  {"events", std::to_string(exec->record.next_event_id - 1)}});
  }
  Start(std::move(launch));
  for (auto& w : waiting) w->set_value(committed);
  for (auto& fn : listeners) fn();
  if (requeue) runners.Push(exec);
}

bool Engine::Rep::ApplyInbox(Execution& exec, InboxItem& item) {
  using Kind = InboxItem::Kind;
  switch (item.kind) {
    case Kind::kStartCoroutine: {
      auto first = db->Get(Table::kHistory, storage::HistoryKey(exec.id(), 1));
      if (!first.ok() || !*first) return false;
      auto started = DecodeEvent(**first);
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
      exec.ApplyObserved(HistoryEvent(e));
      return true;
    }
    case Kind::kActivityResult:
      return ApplyActivityResult(exec, item);
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
      if (exec.record.cancel_requested) return false;
      HistoryEvent& e = exec.AppendEvent(EventType::kWorkflowExecutionCancelRequested);
      e.reason = item.payload;
      exec.ApplyObserved(HistoryEvent(e));
      return true;
    }
    case Kind::kTerminate: {
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

void Engine::Rep::StageNew(Execution& exec, storage::WriteBatch& wb) {
  const std::string& id = exec.id();
  auto start = static_cast<uint64_t>(exec.record.start_ms);
  if (exec.record.parent_workflow_id.empty()) {
    wb.Put(Table::kVisibility, storage::OwnerIndexKey(exec.record.owner, start, id), "");
  }
  wb.Put(Table::kVisibility,
         storage::VisibilityKey(static_cast<uint8_t>(ExecutionStatus::kRunning), start, id), "");
  for (const auto& e : exec.new_events) {
    wb.Put(Table::kHistory, storage::HistoryKey(id, static_cast<uint64_t>(e.event_id)),
           EncodeEvent(e));
  }
  exec.new_events.clear();
  exec.record.updated_ms = exec.record.start_ms;
  wb.Put(Table::kExecutions, storage::ExecutionKey(id), EncodeExecutionRecord(exec.record));
}

std::vector<std::shared_ptr<Execution>> Engine::Rep::StageChildren(Execution& exec,
                                                                   storage::WriteBatch& wb) {
  std::vector<std::shared_ptr<Execution>> out;
  for (auto& c : exec.effects.children) {
    auto taken = db->Get(Table::kExecutions, storage::ExecutionKey(c.id));
    if (Find(c.id) || !taken.ok() || *taken) {
      // The id is taken: the child fails to start, as the parent will hear (and record).
      InboxItem failed;
      failed.kind = InboxItem::Kind::kChildClosed;
      failed.name = c.id;
      failed.result.error = "child workflow id " + c.id + " is already in use";
      exec.effects.self_items.push_back(std::move(failed));
      continue;
    }
    auto child = std::make_shared<Execution>(c.id);
    child->now_ms = exec.now_ms;
    child->record.workflow_type = c.type;
    child->record.owner = exec.record.owner;
    child->record.parent_workflow_id = exec.id();
    child->record.start_ms = exec.now_ms;
    HistoryEvent& started = child->AppendEvent(EventType::kWorkflowExecutionStarted);
    started.workflow_type = c.type;
    started.payload = c.input;
    started.owner = exec.record.owner;
    started.parent_workflow_id = exec.id();
    StageNew(*child, wb);
    out.push_back(std::move(child));
  }
  exec.effects.children.clear();
  return out;
}

Status Engine::Rep::Commit(Execution& exec, storage::WriteBatch& wb,
                           ExecutionStatus status_before) {
  const std::string& id = exec.id();
  for (const auto& e : exec.new_events) {
    wb.Put(Table::kHistory, storage::HistoryKey(id, static_cast<uint64_t>(e.event_id)),
           EncodeEvent(e));
  }
  exec.record.updated_ms = Now();
  wb.Put(Table::kExecutions, storage::ExecutionKey(id), EncodeExecutionRecord(exec.record));
  if (exec.record.status != ExecutionStatus::kRunning) {
    // A closed execution waits for nothing: its pending timers go with the closing commit.
    for (const auto& key : exec.timer_keys) wb.Delete(Table::kTimers, key);
    exec.timer_keys.clear();
  }
  if (exec.record.status != status_before) {
    auto start = static_cast<uint64_t>(exec.record.start_ms);
    wb.Delete(Table::kVisibility,
              storage::VisibilityKey(static_cast<uint8_t>(status_before), start, id));
    wb.Put(Table::kVisibility,
           storage::VisibilityKey(static_cast<uint8_t>(exec.record.status), start, id), "");
  }
  CrashPoint("before_commit");
  auto commit_start = std::chrono::steady_clock::now();
  Status s = db->Write(wb);
  metrics.commit_seconds.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - commit_start).count());
  metrics.events_per_commit.Observe(static_cast<double>(exec.new_events.size()));
  if (!s.ok()) {
    log::Error("workflow commit failed", {{"workflow_id", id}, {"error", s.ToString()}});
    return s;
  }
  CrashPoint("after_commit");
  exec.new_events.clear();
  return Status::Ok();
}

Engine::Rep::Launch Engine::Rep::Prepare(const std::shared_ptr<Execution>& exec,
                                          Effects effects) {
  Launch launch;
  for (const auto& d : effects.dispatches) {
    auto it = exec->activities.find(d.activity_id);
    if (it == exec->activities.end()) continue;
    launch.tasks.push_back(
        {exec, {exec->id(), it->second.type, d.activity_id, d.attempt, it->second.input}});
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
  if (effects.cancel_children || effects.terminate_children) {
    for (const auto& [child_id, type] : exec->children) launch.cancel_children.push_back(child_id);
    launch.terminate_children = effects.terminate_children;
  }
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
    {
      std::lock_guard lock(mu);
      executions[child->id()] = child;
    }
    InboxItem first;
    first.kind = InboxItem::Kind::kStartCoroutine;
    Enqueue(child, std::move(first));
  }
  for (auto& t : launch.timers) Arm(t.fire_ms, t.workflow_id, std::move(t.item));
  for (auto& task : launch.tasks) {
    bool io = io_activity_types.count(task.call.activity_type) > 0;
    (io ? io_workers : workers).Push(std::move(task));
  }
  for (const auto& id : launch.cancel_children) {
    if (auto child = Find(id)) {
      InboxItem item;
      item.kind = launch.terminate_children ? InboxItem::Kind::kTerminate : InboxItem::Kind::kCancel;
      item.payload = launch.terminate_children ? "parent terminated" : "parent cancelled";
      Enqueue(child, std::move(item));
    }
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

// ---- Replay and recovery

Status Engine::Rep::Replay(Execution& exec, const std::vector<HistoryEvent>& history) const {
  exec.replay = &history;
  exec.replay_pos = 0;
  while (exec.replay_pos < history.size() && exec.replay_error.ok()) {
    const HistoryEvent& e = history[exec.replay_pos++];
    exec.now_ms = e.time_ms;
    exec.record.next_event_id = e.event_id + 1;
    if (e.type == EventType::kWorkflowExecutionStarted) {
      exec.record.workflow_type = e.workflow_type;
      exec.record.owner = e.owner;
      exec.record.parent_workflow_id = e.parent_workflow_id;
      exec.record.start_ms = e.time_ms;
      auto fn = workflows.find(e.workflow_type);
      if (fn == workflows.end()) {
        return Status::FailedPrecondition("no workflow registered as '" + e.workflow_type + "'");
      }
      exec.StartCoroutine(fn->second, e.payload);
    } else if (IsCommandEvent(e.type)) {
      return Status::FailedPrecondition("non-determinism at event " + std::to_string(e.event_id) +
                                        ": history has [" + DescribeEvent(e) +
                                        "] but the workflow did not issue it");
    } else {
      exec.ApplyObserved(e, /*from_replay=*/true);
    }
  }
  exec.replay = nullptr;
  return exec.replay_error;
}

Status Engine::Rep::Recover() {
  std::vector<std::string> open_ids;
  RETURN_IF_ERROR(db->ScanPrefix(
      Table::kVisibility,
      storage::VisibilityStatusPrefix(static_cast<uint8_t>(ExecutionStatus::kRunning)),
      [&](std::string_view key, std::string_view) {
        uint8_t status;
        uint64_t start;
        std::string_view id;
        if (storage::DecodeVisibilityKey(key, &status, &start, &id)) open_ids.emplace_back(id);
        return true;
      }));
  std::vector<std::shared_ptr<Execution>> recovered;
  std::vector<ExecutionRecord> closed_children;
  Launch pending_launch;
  for (const auto& id : open_ids) {
    std::vector<HistoryEvent> history;
    RETURN_IF_ERROR(db->ScanPrefix(Table::kHistory, storage::HistoryPrefix(id),
                                   [&](std::string_view, std::string_view value) {
                                     auto e = DecodeEvent(value);
                                     if (e.ok()) history.push_back(std::move(e).value());
                                     return true;
                                   }));
    auto exec = std::make_shared<Execution>(id);
    storage::WriteBatch wb;
    exec->batch = &wb;
    Status replayed = Replay(*exec, history);
    if (!replayed.ok()) {
      log::Error("cannot resume workflow", {{"workflow_id", id}, {"error", replayed.ToString()}});
      continue;  // left open on disk; engine-admin shows why
    }
    // Attempts and backoff are derived state, not history: take them from activity rows.
    for (auto& [activity_id, a] : exec->activities) {
      ASSIGN_OR_RETURN(auto row, db->Get(Table::kActivities,
                                         storage::ActivityKey(id, static_cast<uint64_t>(activity_id))));
      if (!row) continue;
      auto decoded = DecodeActivityRecord(activity_id, *row);
      if (!decoded.ok() || decoded->state != ActivityState::kBackingOff) continue;
      a.attempt = decoded->attempts + 1;
      a.backing_off = decoded->next_attempt_ms > 0;  // its timer row re-arms it
      exec->record.activity_retries += decoded->attempts;
    }
    // Commit anything the resumed code issued past the recorded end (new events).
    exec->batch = nullptr;
    auto children = StageChildren(*exec, wb);
    if (!exec->new_events.empty() || exec->closed_now) {
      RETURN_IF_ERROR(Commit(*exec, wb, ExecutionStatus::kRunning));
    }
    exec->effects.children.clear();
    pending_launch.new_children.insert(pending_launch.new_children.end(), children.begin(),
                                       children.end());
    if (exec->record.status != ExecutionStatus::kRunning) {
      if (!exec->record.parent_workflow_id.empty()) {
        closed_children.push_back(exec->record);
      }
      continue;
    }
    recovered.push_back(exec);
  }
  std::unordered_map<std::string, std::shared_ptr<Execution>> by_id;
  for (auto& exec : recovered) by_id[exec->id()] = exec;
  // Timers, including those that fell due while the server was down (they fire at once).
  std::vector<TimerEntry> timers_to_arm;
  RETURN_IF_ERROR(db->ScanPrefix(Table::kTimers, "", [&](std::string_view key, std::string_view) {
    uint64_t fire;
    std::string_view wf, timer_id;
    InboxItem item;
    if (!storage::DecodeTimerKey(key, &fire, &wf, &timer_id) || !ParseTimerId(timer_id, &item)) {
      return true;
    }
    auto it = by_id.find(std::string(wf));
    if (it == by_id.end()) return true;  // a closed execution's leftover: ignored
    item.timer_key = std::string(key);
    it->second->timer_keys.insert(item.timer_key);
    timers_to_arm.push_back({static_cast<int64_t>(fire), std::string(wf), std::move(item)});
    return true;
  }));
  // Everything that reads an execution happens before it is published to runners.
  std::vector<std::pair<std::shared_ptr<Execution>, InboxItem>> notes;
  std::vector<Launch> launches;
  for (auto& exec : recovered) {
    Effects effects = std::move(exec->effects);
    effects.dispatches.clear();
    for (auto& [activity_id, a] : exec->activities) {
      if (!a.backing_off) effects.dispatches.push_back({activity_id, a.attempt});
    }
    effects.cancel_children = exec->record.cancel_requested;
    launches.push_back(Prepare(exec, std::move(effects)));
    // A child that closed while its parent's notification was in flight: tell it again
    // (the parent ignores a child it already recorded).
    for (const auto& [child_id, type] : exec->children) {
      if (by_id.count(child_id)) continue;
      auto child = db->Get(Table::kExecutions, storage::ExecutionKey(child_id));
      if (!child.ok() || !*child) continue;
      auto record = DecodeExecutionRecord(**child);
      if (!record.ok() || record->status == ExecutionStatus::kRunning) continue;
      record->workflow_id = child_id;
      notes.emplace_back(exec, ChildClosedItem(*record));
    }
  }
  for (const auto& r : closed_children) {
    auto it = by_id.find(r.parent_workflow_id);
    if (it != by_id.end()) notes.emplace_back(it->second, ChildClosedItem(r));
  }
  {
    std::lock_guard lock(mu);
    for (auto& exec : recovered) executions[exec->id()] = exec;
  }
  for (auto& t : timers_to_arm) Arm(t.fire_ms, t.workflow_id, std::move(t.item));
  for (auto& launch : launches) Start(std::move(launch));
  for (auto& [exec, item] : notes) Enqueue(exec, std::move(item));
  Start(std::move(pending_launch));
  metrics.recovered_workflows = static_cast<int64_t>(recovered.size());
  log::Info("recovery done", {{"resumed_workflows", std::to_string(recovered.size())}});
  return Status::Ok();
}

// ---- Engine

Engine::Engine(storage::Db* db, EngineOptions options) : rep_(new Rep) {
  rep_->db = db;
  rep_->options = options;
}

Engine::~Engine() { Shutdown(); }

void Engine::RegisterWorkflow(const std::string& type, WorkflowFn fn) {
  rep_->workflows[type] = std::move(fn);
}

void Engine::RegisterActivity(const std::string& type, ActivityFn fn, ActivityKind kind) {
  rep_->activity_fns[type] = std::move(fn);
  if (kind == ActivityKind::kBlockingIo) rep_->io_activity_types.insert(type);
}

Status Engine::Start() {
  rep_->runners.Start(rep_->options.runner_threads,
                      [this](std::shared_ptr<Execution>& e) { rep_->Run(e); });
  rep_->workers.Start(rep_->options.activity_workers,
                      [this](ActivityTask& t) { rep_->RunActivity(t); });
  rep_->io_workers.Start(rep_->options.io_activity_workers,
                         [this](ActivityTask& t) { rep_->RunActivity(t); });
  rep_->timer_thread = std::thread([this] { rep_->TimerLoop(); });
  rep_->started = true;
  auto recovery_start = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(rep_->Recover());
  rep_->metrics.recovery_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - recovery_start)
                                  .count();
  rep_->is_ready = true;
  return Status::Ok();
}

void Engine::Shutdown() {
  if (!rep_->started) return;
  rep_->started = false;
  {
    std::lock_guard lock(rep_->timer_mu);
    rep_->stopping = true;
  }
  rep_->timer_cv.notify_all();
  rep_->timer_thread.join();
  rep_->workers.Stop();
  rep_->io_workers.Stop();
  rep_->runners.Stop();
}

bool Engine::ready() const { return rep_->is_ready; }

std::string Engine::MetricsText() const {
  std::string out = rep_->metrics.Render();
  size_t running;
  {
    std::lock_guard lock(rep_->mu);
    running = rep_->executions.size();
  }
  out += "# HELP papr_engine_workflows_running Open executions held by the engine.\n";
  out += "# TYPE papr_engine_workflows_running gauge\n";
  out += "papr_engine_workflows_running " + std::to_string(running) + "\n";
  out += "# HELP papr_engine_workflows_closed_total Executions closed since start, by status.\n";
  out += "# TYPE papr_engine_workflows_closed_total counter\n";
  for (auto s : {ExecutionStatus::kCompleted, ExecutionStatus::kFailed, ExecutionStatus::kCanceled,
                 ExecutionStatus::kTerminated}) {
    out += std::string("papr_engine_workflows_closed_total{status=\"") + ExecutionStatusName(s) +
           "\"} " + std::to_string(rep_->closed_by_status[static_cast<size_t>(s)].load()) + "\n";
  }
  out += "# HELP papr_storage_disk_bytes Approximate bytes of the embedded store on disk.\n";
  out += "# TYPE papr_storage_disk_bytes gauge\n";
  out += "papr_storage_disk_bytes " + std::to_string(rep_->db->ApproximateDiskBytes()) + "\n";
  return out;
}

Status Engine::StartWorkflow(StartOptions o) {
  if (rep_->workflows.count(o.workflow_type) == 0) {
    return Status::InvalidArgument("no workflow registered as '" + o.workflow_type + "'");
  }
  if (o.workflow_id.empty() || o.workflow_id.find('\0') != std::string::npos) {
    return Status::InvalidArgument("workflow id must be non-empty without NUL bytes");
  }
  // Reserve the id; the commit itself runs unlocked so concurrent starts share fsyncs.
  {
    std::lock_guard start_lock(rep_->start_mu);
    if (rep_->starting.count(o.workflow_id) > 0) {
      return Status::AlreadyExists("workflow " + o.workflow_id + " is being started");
    }
    ASSIGN_OR_RETURN(auto existing,
                     rep_->db->Get(Table::kExecutions, storage::ExecutionKey(o.workflow_id)));
    if (existing) return Status::AlreadyExists("workflow " + o.workflow_id + " already exists");
    rep_->starting.insert(o.workflow_id);
  }
  struct Unreserve {
    Rep* rep;
    const std::string& id;
    ~Unreserve() {
      std::lock_guard lock(rep->start_mu);
      rep->starting.erase(id);
    }
  } unreserve{rep_.get(), o.workflow_id};
  auto exec = std::make_shared<Execution>(o.workflow_id);
  int64_t now = rep_->Now();
  exec->now_ms = now;
  exec->record.workflow_type = o.workflow_type;
  exec->record.owner = o.owner;
  exec->record.start_ms = now;
  HistoryEvent& started = exec->AppendEvent(EventType::kWorkflowExecutionStarted);
  started.workflow_type = o.workflow_type;
  started.payload = o.input;
  started.owner = o.owner;
  storage::WriteBatch wb;
  for (const auto& [name, bytes] : o.blobs) {
    wb.Put(Table::kBlobs, storage::BlobKey(o.workflow_id, name), bytes);
  }
  rep_->StageNew(*exec, wb);
  // The first workflow task runs here, so its commands (the first activities) share the
  // start's commit: one fsync fewer per execution. Nobody else can see `exec` yet.
  exec->batch = &wb;
  exec->StartCoroutine(rep_->workflows.at(o.workflow_type), o.input);
  exec->batch = nullptr;
  auto children = rep_->StageChildren(*exec, wb);
  RETURN_IF_ERROR(rep_->Commit(*exec, wb, ExecutionStatus::kRunning));
  CrashPoint("after_start_commit");
  Rep::Launch launch = rep_->Prepare(exec, std::move(exec->effects));
  launch.new_children = std::move(children);
  if (exec->record.status == ExecutionStatus::kRunning) {
    std::lock_guard lock(rep_->mu);
    rep_->executions[o.workflow_id] = exec;
  }
  rep_->Start(std::move(launch));
  return Status::Ok();
}

// Hands `item` to the execution and waits until the transition that handled it is durable.
Status Engine::Rep::Deliver(const std::string& id, InboxItem item) {
  auto exec = Find(id);
  if (!exec) {
    ASSIGN_OR_RETURN(auto record, Describe(id));
    return Status::FailedPrecondition("workflow " + id + " is already " +
                                      ExecutionStatusName(record.status));
  }
  item.committed = std::make_shared<std::promise<Status>>();
  std::future<Status> done = item.committed->get_future();
  Enqueue(exec, std::move(item));
  if (done.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    return Status::DeadlineExceeded("workflow " + id + " did not record the request in 30 s");
  }
  try {
    return done.get();
  } catch (const std::future_error&) {
    return Status::Unavailable("the engine stopped before recording the request");
  }
}

Status Engine::RequestCancel(const std::string& id, const std::string& reason) {
  InboxItem item;
  item.kind = InboxItem::Kind::kCancel;
  item.payload = reason;
  return rep_->Deliver(id, std::move(item));
}

Status Engine::Terminate(const std::string& id, const std::string& reason) {
  InboxItem item;
  item.kind = InboxItem::Kind::kTerminate;
  item.payload = reason;
  return rep_->Deliver(id, std::move(item));
}

Status Engine::Signal(const std::string& id, const std::string& name, std::string input) {
  InboxItem item;
  item.kind = InboxItem::Kind::kSignal;
  item.name = name;
  item.payload = std::move(input);
  return rep_->Deliver(id, std::move(item));
}

Result<ExecutionRecord> Engine::Describe(const std::string& id) const { return rep_->Describe(id); }

Result<ExecutionRecord> Engine::Rep::Describe(const std::string& id) const {
  ASSIGN_OR_RETURN(auto row, db->Get(Table::kExecutions, storage::ExecutionKey(id)));
  if (!row) return Status::NotFound("workflow " + id + " not found");
  ASSIGN_OR_RETURN(ExecutionRecord r, DecodeExecutionRecord(*row));
  r.workflow_id = id;
  return r;
}

Result<std::vector<HistoryEvent>> Engine::ReadHistory(const std::string& id, int64_t after,
                                                      int64_t limit) const {
  std::vector<HistoryEvent> out;
  auto cursor = rep_->db->NewCursor(Table::kHistory);
  std::string prefix = storage::HistoryPrefix(id);
  for (cursor->Seek(storage::HistoryKey(id, static_cast<uint64_t>(after + 1)));
       cursor->Valid() && cursor->key().substr(0, prefix.size()) == prefix; cursor->Next()) {
    ASSIGN_OR_RETURN(HistoryEvent e, DecodeEvent(cursor->value()));
    out.push_back(std::move(e));
    if (limit > 0 && static_cast<int64_t>(out.size()) >= limit) break;
  }
  RETURN_IF_ERROR(cursor->status());
  return out;
}

Result<std::vector<ActivityRecord>> Engine::ReadActivities(const std::string& id, int64_t after,
                                                           int64_t limit) const {
  std::vector<ActivityRecord> out;
  auto cursor = rep_->db->NewCursor(Table::kActivities);
  std::string prefix = storage::ActivityPrefix(id);
  int64_t last = after + limit;
  for (cursor->Seek(storage::ActivityKey(id, static_cast<uint64_t>(after + 1)));
       cursor->Valid() && cursor->key().substr(0, prefix.size()) == prefix; cursor->Next()) {
    std::string_view wf;
    uint64_t aid;
    if (!storage::DecodeActivityKey(cursor->key(), &wf, &aid)) continue;
    if (static_cast<int64_t>(aid) > last) break;
    ASSIGN_OR_RETURN(ActivityRecord r, DecodeActivityRecord(static_cast<int64_t>(aid), cursor->value()));
    out.push_back(std::move(r));
  }
  RETURN_IF_ERROR(cursor->status());
  return out;
}

Result<std::optional<std::string>> Engine::ReadBlob(const std::string& id,
                                                    const std::string& name) const {
  return rep_->db->Get(Table::kBlobs, storage::BlobKey(id, name));
}

Result<std::vector<ExecutionRecord>> Engine::ListByOwner(const std::string& owner, int64_t limit,
                                                         const std::string& after) const {
  std::vector<ExecutionRecord> out;
  bool skipping = !after.empty();
  Status inner;
  RETURN_IF_ERROR(rep_->db->ScanPrefix(
      Table::kVisibility, storage::OwnerIndexPrefix(owner),
      [&](std::string_view key, std::string_view) {
        std::string_view o, id;
        uint64_t start;
        if (!storage::DecodeOwnerIndexKey(key, &o, &start, &id)) return true;
        if (skipping) {
          skipping = id != after;
          return true;
        }
        auto record = Describe(std::string(id));
        if (!record.ok()) return true;  // deleted by retention
        out.push_back(std::move(record).value());
        return static_cast<int64_t>(out.size()) < limit;
      }));
  return out;
}

Result<std::vector<ExecutionRecord>> Engine::ListByStatus(std::optional<ExecutionStatus> status,
                                                          int64_t limit) const {
  std::vector<ExecutionRecord> out;
  for (uint8_t s = 1; s <= 5; ++s) {
    if (status && static_cast<uint8_t>(*status) != s) continue;
    RETURN_IF_ERROR(rep_->db->ScanPrefix(
        Table::kVisibility, storage::VisibilityStatusPrefix(s),
        [&](std::string_view key, std::string_view) {
          uint8_t st;
          uint64_t start;
          std::string_view id;
          if (!storage::DecodeVisibilityKey(key, &st, &start, &id)) return true;
          auto record = Describe(std::string(id));
          if (record.ok()) out.push_back(std::move(record).value());
          return limit <= 0 || static_cast<int64_t>(out.size()) < limit;
        }));
  }
  return out;
}

bool Engine::SubscribeOnce(const std::string& id, std::function<void()> fn) {
  if (auto exec = rep_->Find(id)) {
    std::lock_guard lock(exec->inbox_mu);
    if (!exec->closed) {
      exec->listeners.push_back(std::move(fn));
      return true;
    }
  }
  if (!Describe(id).ok()) return false;
  fn();
  return true;
}

Result<int64_t> Engine::SweepRetention() {
  int64_t cutoff = rep_->Now() - rep_->options.retention_ms;
  int64_t deleted = 0;
  ASSIGN_OR_RETURN(auto all, ListByStatus(std::nullopt, 0));
  for (const auto& r : all) {
    if (r.status == ExecutionStatus::kRunning || r.close_ms == 0 || r.close_ms > cutoff) continue;
    storage::WriteBatch wb;
    auto drop_prefix = [&](Table t, const std::string& prefix) {
      return rep_->db->ScanPrefix(t, prefix, [&](std::string_view key, std::string_view) {
        wb.Delete(t, key);
        return true;
      });
    };
    RETURN_IF_ERROR(drop_prefix(Table::kHistory, storage::HistoryPrefix(r.workflow_id)));
    RETURN_IF_ERROR(drop_prefix(Table::kActivities, storage::ActivityPrefix(r.workflow_id)));
    RETURN_IF_ERROR(drop_prefix(Table::kBlobs, storage::BlobPrefix(r.workflow_id)));
    wb.Delete(Table::kExecutions, storage::ExecutionKey(r.workflow_id));
    auto start = static_cast<uint64_t>(r.start_ms);
    wb.Delete(Table::kVisibility,
              storage::VisibilityKey(static_cast<uint8_t>(r.status), start, r.workflow_id));
    wb.Delete(Table::kVisibility, storage::OwnerIndexKey(r.owner, start, r.workflow_id));
    RETURN_IF_ERROR(rep_->db->Write(wb));
    ++deleted;
  }
  return deleted;
}

Status Engine::ReplayCheck(const std::string& workflow_id,
                           const std::vector<HistoryEvent>& history) const {
  if (history.empty()) return Status::InvalidArgument("empty history");
  Execution exec(workflow_id);
  RETURN_IF_ERROR(rep_->Replay(exec, history));
  bool recorded_closed = false;
  for (const auto& e : history) {
    recorded_closed = recorded_closed || e.type == EventType::kWorkflowExecutionCompleted ||
                      e.type == EventType::kWorkflowExecutionFailed ||
                      e.type == EventType::kWorkflowExecutionCanceled ||
                      e.type == EventType::kWorkflowExecutionTerminated;
  }
  if (recorded_closed && !exec.new_events.empty()) {
    return Status::FailedPrecondition(
        "non-determinism at event " + std::to_string(exec.new_events.front().event_id) +
        ": the workflow issued [" + DescribeEvent(exec.new_events.front()) +
        "] after the recorded end of the history");
  }
  return Status::Ok();
}

}  // namespace papr::engine
