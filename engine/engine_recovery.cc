#include <chrono>

#include "common/log.h"
#include "engine/internal/engine_rep.h"
#include "engine/internal/history_loader.h"

namespace papr::engine {
namespace {

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

}  // namespace

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
  const auto started = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(std::vector<std::string> open_ids, OpenIds());
  if (options.fence_of) {  // cluster mode: only the shards owned now; the rest as acquired
    std::erase_if(open_ids, [&](const std::string& id) { return !options.fence_of(id); });
  }
  ASSIGN_OR_RETURN(const size_t resumed, Resume(open_ids));
  metrics.recovered_workflows = static_cast<int64_t>(resumed);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  log::Info("recovery done", {{"resumed_workflows", std::to_string(resumed)},
                              {"ms", std::to_string(took.count())}});
  return Status::Ok();
}

Result<std::vector<std::string>> Engine::Rep::OpenIds() const {
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
  return open_ids;
}

bool Engine::Rep::IsLive(const std::string& id) const {
  auto exec = Find(id);
  if (!exec) return false;
  std::lock_guard lock(exec->inbox_mu);
  return !exec->broken;
}

Result<size_t> Engine::Rep::Resume(const std::vector<std::string>& open_ids) {
  std::vector<std::shared_ptr<Execution>> recovered;
  std::vector<ExecutionRecord> closed_children;
  Launch pending_launch;
  for (const auto& id : open_ids) {
    if (IsLive(id)) continue;  // never a second live in-memory execution of one id
    auto history = internal::LoadHistory(*db, id);
    if (history.ok() && history->empty()) continue;  // never recorded (a failed start)
    auto exec = std::make_shared<Execution>(id);
    storage::WriteBatch wb;
    exec->batch = &wb;
    Status replayed = history.ok() ? Replay(*exec, *history) : history.status();
    if (!replayed.ok()) {
      log::Error("cannot resume workflow", {{"workflow_id", id}, {"error", replayed.ToString()}});
      std::lock_guard lock(mu);
      unresumable[id] = replayed.message();
      continue;  // left open on disk, shown as unresumable; engine-admin resets or fails it
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
      NoteClosed(*exec);  // the resumed code (or its recorded end) closed it just now
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
  storage::WriteBatch leftovers;
  RETURN_IF_ERROR(db->ScanPrefix(Table::kTimers, "", [&](std::string_view key, std::string_view value) {
    uint64_t fire;
    std::string_view wf, timer_id;
    InboxItem item;
    if (!storage::DecodeTimerKey(key, &fire, &wf, &timer_id) || !ParseTimerId(timer_id, &item)) {
      return true;
    }
    auto it = by_id.find(std::string(wf));
    if (it == by_id.end()) {
      // A closed execution's leftover (e.g. a parent's request that reached a child after
      // its own close): dropped. Rows of open executions that were not resumed stay.
      auto record = Describe(std::string(wf));
      if (!record.ok() || record->status != ExecutionStatus::kRunning) {
        leftovers.Delete(Table::kTimers, key);
      }
      return true;
    }
    if (item.kind == InboxItem::Kind::kTerminate || item.kind == InboxItem::Kind::kCancel) {
      item.payload = std::string(value);
    }
    item.timer_key = std::string(key);
    it->second->timer_keys.insert(item.timer_key);
    timers_to_arm.push_back({static_cast<int64_t>(fire), std::string(wf), std::move(item)});
    return true;
  }));
  if (leftovers.Count() > 0) RETURN_IF_ERROR(db->Write(leftovers));
  // Everything that reads an execution happens before it is published to runners.
  std::vector<std::pair<std::shared_ptr<Execution>, InboxItem>> notes;
  std::vector<Launch> launches;
  for (auto& exec : recovered) {
    Effects effects = std::move(exec->effects);
    effects.dispatches.clear();
    for (auto& [activity_id, a] : exec->activities) {
      if (!a.backing_off) effects.dispatches.push_back({activity_id, a.attempt, /*resumed=*/true});
    }
    effects.cancel_children = exec->record.cancel_requested;
    launches.push_back(Prepare(exec, std::move(effects)));
  }
  for (const auto& r : closed_children) {
    // The parent is resumed here or, when a child alone was rebuilt, live already.
    auto it = by_id.find(r.parent_workflow_id);
    auto parent = it != by_id.end() ? it->second : Find(r.parent_workflow_id);
    if (parent) notes.emplace_back(parent, ChildClosedItem(r));
  }
  // Open children not resumed here, copied while nothing else can touch these executions.
  std::vector<std::pair<std::shared_ptr<Execution>, std::string>> children_to_check;
  for (auto& exec : recovered) {
    for (const auto& [child_id, child_info] : exec->children) {
      if (by_id.count(child_id) == 0) children_to_check.emplace_back(exec, child_id);
    }
  }
  {
    // Replaces an execution a failed commit left broken (engine_rebuild.cc).
    std::lock_guard lock(mu);
    for (auto& exec : recovered) executions[exec->id()] = exec;
  }
  // A child that closed while its parent's notification was in flight (or while the parent
  // was not live): tell it again; the parent ignores a child it already recorded. Read after
  // publishing, so a child closing meanwhile finds the parent live or is seen here.
  for (auto& [exec, child_id] : children_to_check) {
    auto child = db->Get(Table::kExecutions, storage::ExecutionKey(child_id));
    if (!child.ok() || !*child) continue;
    auto record = DecodeExecutionRecord(**child);
    if (!record.ok() || record->status == ExecutionStatus::kRunning) continue;
    record->workflow_id = child_id;
    notes.emplace_back(exec, ChildClosedItem(*record));
  }
  for (auto& t : timers_to_arm) Arm(t.fire_ms, t.workflow_id, std::move(t.item));
  for (auto& launch : launches) Start(std::move(launch));
  for (auto& [exec, item] : notes) Enqueue(exec, std::move(item));
  Start(std::move(pending_launch));
  return recovered.size();
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
