// Building and committing a transition: a new execution's first writes, the children a task
// started (created in the parent's commit), the commit itself with its record, visibility and
// timer rows, and the parent-close outbox of a closing commit.
#include <algorithm>
#include <chrono>

#include "common/log.h"
#include "engine/crash_point.h"
#include "engine/history_rows.h"
#include "engine/internal/engine_rep.h"

namespace papr::engine {

void Engine::Rep::StageNew(Execution& exec, storage::WriteBatch& wb) {
  const std::string& id = exec.id();
  auto start = static_cast<uint64_t>(exec.record.start_ms);
  if (exec.record.parent_workflow_id.empty()) {
    wb.Put(Table::kVisibility, storage::OwnerIndexKey(exec.record.owner, start, id), "");
  }
  wb.Put(Table::kVisibility,
         storage::VisibilityKey(static_cast<uint8_t>(ExecutionStatus::kRunning), start, id), "");
  if (!exec.new_events.empty()) StageHistoryRow(wb, id, exec.new_events);
  exec.new_events.clear();
  exec.record.updated_ms = exec.record.start_ms;
  // Creating the row is conditional: of two writers that both found the id free (two engines
  // on one store), the second's commit fails with AlreadyExists instead of overwriting.
  wb.Insert(Table::kExecutions, storage::ExecutionKey(id), EncodeExecutionRecord(exec.record));
}

std::vector<std::shared_ptr<Execution>> Engine::Rep::StageChildren(Execution& exec,
                                                                   storage::WriteBatch& wb) {
  std::vector<std::shared_ptr<Execution>> out;
  for (auto& c : exec.effects.children) {
    // One id started twice by this task is created once (a second Insert would fail the
    // commit); its parent waits for that one child, as Start publishes only the first.
    auto same_id = [&](const std::shared_ptr<Execution>& o) { return o->id() == c.id; };
    if (std::any_of(out.begin(), out.end(), same_id)) continue;
    auto taken = db->Get(Table::kExecutions, storage::ExecutionKey(c.id));
    // The parent's own id is taken too, also while its start is not yet published.
    if (c.id == exec.id() || Find(c.id) || !taken.ok() || *taken) {
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
  if (options.fence_of) {
    std::optional<storage::Fence> fence = options.fence_of(id);
    if (!fence.has_value()) {
      return Status::OwnershipLost("this node does not own the shard of workflow " + id);
    }
    wb.SetFence(*fence);
  }
  if (!exec.new_events.empty()) StageHistoryRow(wb, id, exec.new_events);
  exec.record.updated_ms = Now();
  bool closing = status_before == ExecutionStatus::kRunning &&
                 exec.record.status != ExecutionStatus::kRunning;
  if (closing) StageParentClose(exec, wb);
  // Nodes following it elsewhere (?wait=, streams) look at once rather than at their poll.
  if (closing && options.shard_of) wb.AnnounceClosed(id);
  exec.record.open_children.clear();
  for (const auto& [child_id, child] : exec.children) exec.record.open_children.push_back(child_id);
  std::string row = EncodeExecutionRecord(exec.record);
  wb.Put(Table::kExecutions, storage::ExecutionKey(id), row);
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
  if (!s.ok()) metrics.commit_failures++;
  if (s.code() == StatusCode::kOwnershipLost) metrics.fencing_rejections++;
  metrics.commit_seconds.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - commit_start).count());
  metrics.events_per_commit.Observe(static_cast<double>(exec.new_events.size()));
  if (!s.ok()) {
    log::Error("workflow commit failed", {{"workflow_id", id}, {"error", s.ToString()}});
    return s;
  }
  {
    std::lock_guard lock(exec.inbox_mu);
    exec.committed_row = std::move(row);
  }
  CrashPoint("after_commit");
  if (closing && !exec.effects.parent_close.empty()) CrashPoint("after_parent_close_commit");
  exec.new_events.clear();
  return Status::Ok();
}

void Engine::Rep::StageParentClose(Execution& exec, storage::WriteBatch& wb) {
  const char* how = ExecutionStatusName(exec.record.status);
  std::string reason = "parent " + exec.id() + " " + how;
  if (!exec.record.failure.empty()) reason += ": " + exec.record.failure;
  for (const auto& [child_id, child] : exec.children) {
    if (child.policy == ParentClosePolicy::kAbandon) continue;
    bool terminate = child.policy == ParentClosePolicy::kTerminate;
    std::string key = storage::TimerKey(static_cast<uint64_t>(exec.now_ms), child_id,
                                        terminate ? "p:t" : "p:c");
    wb.Put(Table::kTimers, key, reason);
    InboxItem item;
    item.kind = terminate ? InboxItem::Kind::kTerminate : InboxItem::Kind::kCancel;
    item.payload = reason;
    item.timer_key = key;
    exec.effects.parent_close.push_back({child_id, std::move(item)});
  }
}

}  // namespace papr::engine
