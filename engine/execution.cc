#include "engine/internal/execution.h"

#include "common/byte_codec.h"
#include "engine/internal/command_compare.h"
#include "storage/keys.h"

namespace papr::engine::internal {
namespace {

constexpr size_t kMaxFailureNotes = 100;

}  // namespace

std::string EncodeChildProgress(const ExecutionRecord& child) {
  std::string out;
  PutSignedVarint64(&out, child.progress_succeeded);
  PutSignedVarint64(&out, child.progress_failed);
  PutSignedVarint64(&out, child.progress_canceled);
  return out;
}

void DecodeChildProgress(std::string_view in, WorkflowEvent* out) {
  if (in.empty()) return;
  int64_t ok = 0, failed = 0, canceled = 0;
  if (GetSignedVarint64(&in, &ok) && GetSignedVarint64(&in, &failed) &&
      GetSignedVarint64(&in, &canceled)) {
    out->child_succeeded = ok;
    out->child_failed = failed;
    out->child_canceled = canceled;
  }
}

const HistoryEvent* Execution::Command(HistoryEvent proposed) {
  if (!replay_error.ok()) return nullptr;
  if (replaying()) {
    const HistoryEvent& recorded = (*replay)[replay_pos];
    std::string mismatch = CommandMismatch(recorded, proposed);
    if (!mismatch.empty()) {
      proposed.event_id = recorded.event_id;
      replay_error = Status::FailedPrecondition(
          "non-determinism at event " + std::to_string(recorded.event_id) + ": " + mismatch +
          ": history has [" + DescribeEvent(recorded) + "] but the workflow issued [" +
          DescribeEvent(proposed) + "]");
      return nullptr;
    }
    ++replay_pos;
    now_ms = recorded.time_ms;
    record.next_event_id = recorded.event_id + 1;
    return &recorded;
  }
  proposed.event_id = record.next_event_id++;
  proposed.time_ms = now_ms;
  new_events.push_back(std::move(proposed));
  return &new_events.back();
}

HistoryEvent& Execution::AppendEvent(EventType type) {
  HistoryEvent e;
  e.type = type;
  e.event_id = record.next_event_id++;
  e.time_ms = now_ms;
  new_events.push_back(std::move(e));
  return new_events.back();
}

void Execution::CommandStartActivity(const std::string& type, std::string input,
                                     const ActivityOptions& options, int64_t activity_id) {
  HistoryEvent e;
  e.type = EventType::kActivityTaskScheduled;
  e.activity_id = activity_id;
  e.activity_type = type;
  e.payload = input;
  e.options = EncodeActivityOptions(options);
  bool was_replaying = replaying();
  const HistoryEvent* recorded = Command(std::move(e));
  if (recorded == nullptr) return;
  PendingActivity& a = activities[activity_id];
  a.type = type;
  a.input = std::move(input);
  a.options = options;
  if (was_replaying) {
    // Re-dispatch exactly what was scheduled, never what the live code or config would say.
    auto recorded_options = DecodeActivityOptions(recorded->options);
    if (!recorded_options.ok()) {
      replay_error = Status::FailedPrecondition(
          "event " + std::to_string(recorded->event_id) +
          " (ActivityTaskScheduled) has options that do not decode: " +
          recorded_options.status().message());
      activities.erase(activity_id);
      return;
    }
    a.input = recorded->payload;
    a.options = std::move(recorded_options).value();
  }
  a.scheduled_event_id = recorded->event_id;
  a.scheduled_ms = recorded->time_ms;
  record.activities_scheduled++;
  if (!was_replaying) effects.dispatches.push_back({activity_id, 1});
}

void Execution::CommandStartTimer(int64_t timer_id, int64_t delay_ms) {
  HistoryEvent e;
  e.type = EventType::kTimerStarted;
  e.timer_id = timer_id;
  e.time_ms = now_ms;  // the command's time while replaying (for its duration)
  e.fire_at_ms = now_ms + std::max<int64_t>(0, delay_ms);
  bool was_replaying = replaying();
  const HistoryEvent* recorded = Command(std::move(e));
  if (recorded == nullptr) return;
  pending_user_timers.insert(timer_id);
  if (was_replaying) return;  // its row is re-armed by recovery
  InboxItem item;
  item.kind = InboxItem::Kind::kUserTimer;
  item.timer_id = timer_id;
  std::string key = storage::TimerKey(static_cast<uint64_t>(recorded->fire_at_ms), id(),
                                      "t:" + std::to_string(timer_id));
  if (batch != nullptr) batch->Put(storage::Table::kTimers, key, "");
  timer_keys.insert(key);
  effects.timers.push_back({recorded->fire_at_ms, key, item});
}

void Execution::CommandStartChild(const std::string& child_id, const std::string& type,
                                  std::string input, ParentClosePolicy policy) {
  HistoryEvent e;
  e.type = EventType::kStartChildWorkflowExecutionInitiated;
  e.child_workflow_id = child_id;
  e.workflow_type = type;
  e.payload = input;
  e.parent_close_policy = static_cast<int64_t>(policy);
  bool was_replaying = replaying();
  const HistoryEvent* recorded = Command(std::move(e));
  if (recorded == nullptr) return;
  // The recorded policy binds (an execution keeps the policy it started its child with).
  children[child_id] = {type, static_cast<ParentClosePolicy>(recorded->parent_close_policy)};
  if (!was_replaying) effects.children.push_back({child_id, type, std::move(input)});
}

void Execution::ApplyObserved(const HistoryEvent& e, bool from_replay) {
  now_ms = e.time_ms;
  WorkflowEvent out;
  switch (e.type) {
    case EventType::kActivityTaskCompleted:
    case EventType::kActivityTaskFailed:
    case EventType::kActivityTaskTimedOut: {
      activities.erase(e.activity_id);
      bool ok = e.type == EventType::kActivityTaskCompleted;
      if (from_replay) {  // live runs count retries as they happen
        record.activity_retries += std::max<int64_t>(0, e.attempt - 1);
      }
      (ok ? record.activities_succeeded : record.activities_failed)++;
      if (!ok && record.first_failures.size() < kMaxFailureNotes) {
        record.first_failures.push_back({e.activity_id, e.failure, e.failure_type});
      }
      out.kind = WorkflowEvent::Kind::kActivity;
      out.activity_id = e.activity_id;
      out.ok = ok;
      out.payload = e.payload;
      out.error = e.failure;
      out.attempts = e.attempt;
      break;
    }
    case EventType::kChildWorkflowExecutionCompleted:
      children.erase(e.child_workflow_id);
      DecodeChildProgress(e.child_progress, &out);
      out.kind = WorkflowEvent::Kind::kChild;
      out.child_workflow_id = e.child_workflow_id;
      out.ok = e.failure.empty();
      out.payload = e.payload;
      out.error = e.failure;
      break;
    case EventType::kTimerFired:
      pending_user_timers.erase(e.timer_id);
      out.kind = WorkflowEvent::Kind::kTimer;
      out.timer_id = e.timer_id;
      break;
    case EventType::kWorkflowExecutionSignaled:
      out.kind = WorkflowEvent::Kind::kSignal;
      out.signal_name = e.signal_name;
      out.payload = e.payload;
      break;
    case EventType::kWorkflowExecutionCancelRequested:
      record.cancel_requested = true;
      if (!from_replay) effects.cancel_children = true;
      out.kind = WorkflowEvent::Kind::kCancelRequested;
      break;
    case EventType::kWorkflowExecutionTerminated:
      record.status = ExecutionStatus::kTerminated;
      record.close_ms = e.time_ms;
      record.failure = e.reason;
      closed_now = true;
      waiter = {};
      task = WorkflowTask();
      activities.clear();
      return;
    default:
      return;  // informational (e.g. ActivityTaskStarted)
  }
  ready.push_back(std::move(out));
  Pump();
}

void Execution::StartCoroutine(const WorkflowFn& fn, const std::string& input) {
  task = fn(ctx, input);
  if (task.handle()) task.handle().resume();
  Pump();
}

void Execution::Pump() {
  while (waiter && !ready.empty() && replay_error.ok()) {
    auto h = std::exchange(waiter, {});
    h.resume();
  }
  if (!task.done() || record.status != ExecutionStatus::kRunning || !replay_error.ok()) return;
  auto& promise = task.handle().promise();
  WorkflowOutcome outcome = promise.outcome.value_or(WorkflowOutcome::Failed("workflow threw"));
  if (promise.exception) {
    try {
      std::rethrow_exception(promise.exception);
    } catch (const std::exception& ex) {
      outcome = WorkflowOutcome::Failed(std::string("workflow threw: ") + ex.what());
    } catch (...) {
      outcome = WorkflowOutcome::Failed("workflow threw a non-standard exception");
    }
  }
  HistoryEvent e;
  switch (outcome.kind) {
    case WorkflowOutcome::Kind::kCompleted:
      e.type = EventType::kWorkflowExecutionCompleted;
      e.payload = outcome.payload;
      record.status = ExecutionStatus::kCompleted;
      record.result = outcome.payload;
      break;
    case WorkflowOutcome::Kind::kFailed:
      e.type = EventType::kWorkflowExecutionFailed;
      e.failure = outcome.payload;
      record.status = ExecutionStatus::kFailed;
      record.failure = outcome.payload;
      break;
    case WorkflowOutcome::Kind::kCanceled:
      e.type = EventType::kWorkflowExecutionCanceled;
      e.payload = outcome.payload;
      record.status = ExecutionStatus::kCanceled;
      record.result = outcome.payload;
      break;
  }
  const HistoryEvent* recorded = Command(std::move(e));
  if (recorded == nullptr) return;
  record.close_ms = recorded->time_ms;
  closed_now = true;
}

}  // namespace papr::engine::internal
