// Retention: closed executions past `retention_ms` are deleted, a root together with its
// children (so no chunk outlives, or is orphaned by, its batch), by a periodic background
// sweep with bounded work per tick and many executions per write. Cluster mode: each node
// sweeps the shards it owns, one root per write fenced with its shard's fence.
#include <chrono>

#include "common/log.h"
#include "engine/history_rows.h"
#include "engine/internal/engine_rep.h"

namespace papr::engine {
namespace {

constexpr int64_t kScanBudgetFactor = 10;  // visibility rows looked at per execution deleted
constexpr int64_t kFullSweepPauseMs = 1000;  // before the next tick when a sweep was full
constexpr size_t kMaxKeysPerCommit = 100000;  // a 10,000-memory batch has ~40,000 keys

Status DeletePrefix(const storage::Db& db, Table t, const std::string& prefix,
                    storage::WriteBatch& wb) {
  return db.ScanPrefix(t, prefix, [&](std::string_view key, std::string_view) {
    wb.Delete(t, key);
    return true;
  });
}

}  // namespace

Result<int64_t> Engine::SweepRetention() { return rep_->SweepRetention(); }

// Stages the deletion of `r` and of its children (named by its history). FailedPrecondition
// while one of them is still open: it is kept, and looked at again next sweep.
Status Engine::Rep::StageDeletion(const ExecutionRecord& r, storage::WriteBatch& wb,
                                  int64_t* deleted) {
  if (r.status == ExecutionStatus::kRunning) {
    return Status::FailedPrecondition("workflow " + r.workflow_id + " is still running");
  }
  std::vector<std::string> children;
  const std::string history = storage::HistoryPrefix(r.workflow_id);
  RETURN_IF_ERROR(db->ScanPrefix(Table::kHistory, history, [&](std::string_view key,
                                                                 std::string_view value) {
    wb.Delete(Table::kHistory, key);
    std::vector<HistoryEvent> row;
    DecodeHistoryRow(value, &row).IgnoreError();  // what decodes names the children
    for (const HistoryEvent& e : row) {
      if (e.type == EventType::kStartChildWorkflowExecutionInitiated) {
        children.push_back(e.child_workflow_id);
      }
    }
    return true;
  }));
  for (const auto& child_id : children) {
    auto child = Describe(child_id);
    if (child.status().IsNotFound()) continue;  // never started (id taken) or gone
    RETURN_IF_ERROR(child.status());
    if (child->parent_workflow_id != r.workflow_id) continue;  // another execution's id
    RETURN_IF_ERROR(StageDeletion(*child, wb, deleted));
  }
  RETURN_IF_ERROR(DeletePrefix(*db, Table::kActivities, storage::ActivityPrefix(r.workflow_id), wb));
  RETURN_IF_ERROR(DeletePrefix(*db, Table::kBlobs, storage::BlobPrefix(r.workflow_id), wb));
  wb.Delete(Table::kExecutions, storage::ExecutionKey(r.workflow_id));
  closed_rows.Erase(r.workflow_id);
  auto start = static_cast<uint64_t>(r.start_ms);
  wb.Delete(Table::kVisibility,
            storage::VisibilityKey(static_cast<uint8_t>(r.status), start, r.workflow_id));
  wb.Delete(Table::kVisibility, storage::OwnerIndexKey(r.owner, start, r.workflow_id));
  ++*deleted;
  return Status::Ok();
}

Result<int64_t> Engine::Rep::SweepRetention() {
  const int64_t cutoff = Now() - options.retention_ms;
  const int64_t max = std::max<int64_t>(1, options.retention_max_per_sweep);
  const int64_t per_commit = std::max<int64_t>(1, options.retention_per_commit);
  int64_t deleted = 0, staged = 0, scanned = 0;
  storage::WriteBatch wb;
  Status inner;
  for (auto status : {ExecutionStatus::kCompleted, ExecutionStatus::kFailed,
                      ExecutionStatus::kCanceled, ExecutionStatus::kTerminated}) {
    auto s = static_cast<uint8_t>(status);
    RETURN_IF_ERROR(db->ScanPrefix(
        Table::kVisibility, storage::VisibilityStatusPrefix(s),
        [&](std::string_view key, std::string_view) {
          uint8_t st;
          uint64_t start;
          std::string_view id;
          if (!storage::DecodeVisibilityKey(key, &st, &start, &id)) return true;
          // In start order: a later start closed later too, so nothing after is due.
          if (static_cast<int64_t>(start) > cutoff) return false;
          if (++scanned > kScanBudgetFactor * max) return false;
          std::optional<storage::Fence> fence;
          if (options.fence_of && !(fence = options.fence_of(std::string(id)))) {
            return true;  // another node's shard: its owner sweeps it
          }
          auto r = Describe(std::string(id));
          if (!r.ok() || r->close_ms == 0 || r->close_ms > cutoff) return true;
          // A child goes with its parent (unless the parent is gone).
          if (!r->parent_workflow_id.empty() && Describe(r->parent_workflow_id).ok()) return true;
          storage::WriteBatch one;
          int64_t n = 0;
          Status staged_one = StageDeletion(*r, one, &n);
          if (staged_one.code() == StatusCode::kFailedPrecondition) return true;  // a child runs
          if (!staged_one.ok()) {
            inner = staged_one;
            return false;
          }
          if (fence) {  // a write per root, fenced: a node that lost the shard deletes nothing
            one.SetFence(*fence);
            inner = db->Write(one);
            if (!inner.ok()) return false;
            deleted += n;
            return deleted + staged < max;
          }
          wb.Append(one);
          staged += n;
          if (staged >= per_commit || wb.Count() >= kMaxKeysPerCommit) {
            inner = db->Write(wb);
            wb = storage::WriteBatch();
            deleted += staged;
            staged = 0;
            if (!inner.ok()) return false;
          }
          return deleted + staged < max;
        }));
    RETURN_IF_ERROR(inner);
    if (deleted + staged >= max) break;
  }
  if (staged > 0) {
    RETURN_IF_ERROR(db->Write(wb));
    deleted += staged;
  }
  return deleted;
}

void Engine::Rep::RetentionLoop() {
  std::unique_lock lock(timer_mu);
  while (!stopping) {
    lock.unlock();
    int64_t pause_ms = options.retention_sweep_ms;
    auto swept = SweepRetention();
    if (!swept.ok()) {
      log::Warn("retention sweep failed", {{"error", swept.status().ToString()}});
    } else if (*swept > 0) {
      log::Info("retention sweep deleted closed executions", {{"count", std::to_string(*swept)}});
      if (*swept >= options.retention_max_per_sweep) pause_ms = kFullSweepPauseMs;
    }
    lock.lock();
    retention_cv.wait_for(lock, std::chrono::milliseconds(pause_ms), [&] { return stopping; });
  }
}

}  // namespace papr::engine
