#include "engine/history_rows.h"
#include "engine/internal/engine_rep.h"
#include "engine/internal/history_loader.h"

namespace papr::engine {

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
  out += "# HELP papr_engine_workflows_unresumable Open executions recovery could not resume "
         "(see engine-admin list --unresumable).\n";
  out += "# TYPE papr_engine_workflows_unresumable gauge\n";
  out += "papr_engine_workflows_unresumable " + std::to_string(Unresumable().size()) + "\n";
  out += "# HELP papr_storage_disk_bytes Approximate bytes of the embedded store on disk.\n";
  out += "# TYPE papr_storage_disk_bytes gauge\n";
  out += "papr_storage_disk_bytes " + std::to_string(rep_->db->ApproximateDiskBytes()) + "\n";
  return out;
}

Result<ExecutionRecord> Engine::Describe(const std::string& id) const { return rep_->Describe(id); }

std::vector<std::pair<std::string, std::string>> Engine::Unresumable() const {
  std::lock_guard lock(rep_->mu);
  return {rep_->unresumable.begin(), rep_->unresumable.end()};
}

std::optional<std::string> Engine::ResumeFailure(const std::string& id) const {
  std::lock_guard lock(rep_->mu);
  auto it = rep_->unresumable.find(id);
  if (it == rep_->unresumable.end()) return std::nullopt;
  return it->second;
}

Result<ExecutionRecord> Engine::Rep::Describe(const std::string& id) const {
  // A live execution's row is the one its last commit wrote: no read (status polls, waiters
  // and admission ask after every commit; on PostgreSQL each read is a round trip).
  std::string committed;
  if (auto exec = Find(id)) {
    std::lock_guard lock(exec->inbox_mu);
    if (!exec->broken) committed = exec->committed_row;
  }
  if (committed.empty()) committed = closed_rows.Get(id, Now()).value_or("");
  if (!committed.empty()) {
    ASSIGN_OR_RETURN(ExecutionRecord r, DecodeExecutionRecord(committed));
    r.workflow_id = id;
    return r;
  }
  ASSIGN_OR_RETURN(auto row, db->Get(Table::kExecutions, storage::ExecutionKey(id)));
  if (!row && options.shard_of) {
    ASSIGN_OR_RETURN(auto posted, FindPosted(id));
    if (posted) return PostedRecord(id, *posted);
    // Applied between the two reads: a start moves from the inbox to its row in one commit.
    ASSIGN_OR_RETURN(row, db->Get(Table::kExecutions, storage::ExecutionKey(id)));
  }
  if (!row) return Status::NotFound("workflow " + id + " not found");
  ASSIGN_OR_RETURN(ExecutionRecord r, DecodeExecutionRecord(*row));
  r.workflow_id = id;
  return r;
}

Result<std::vector<HistoryEvent>> Engine::ReadHistory(const std::string& id, int64_t after,
                                                      int64_t limit) const {
  ASSIGN_OR_RETURN(std::vector<HistoryEvent> out, rep_->ReadStoredHistory(id, after, limit));
  if (!out.empty() || after != 0 || !rep_->options.shard_of) return out;
  // Cluster mode: a start posted for its shard's owner shows its started event until applied.
  ASSIGN_OR_RETURN(auto posted, rep_->FindPosted(id));
  if (!posted) return rep_->ReadStoredHistory(id, after, limit);  // applied meanwhile
  HistoryEvent started;
  started.event_id = 1;
  started.type = EventType::kWorkflowExecutionStarted;
  started.time_ms = posted->posted_ms;
  started.workflow_type = posted->options.workflow_type;
  started.payload = posted->options.input;
  started.owner = posted->options.owner;
  out.push_back(std::move(started));
  return out;
}

Result<std::vector<HistoryEvent>> Engine::Rep::ReadStoredHistory(const std::string& id,
                                                                int64_t after,
                                                                int64_t limit) const {
  std::vector<HistoryEvent> out;
  auto cursor = db->NewCursor(Table::kHistory);
  std::string prefix = storage::HistoryPrefix(id);
  // The first row whose last event is past `after` holds event after + 1 (history_rows.h).
  for (cursor->Seek(storage::HistoryKey(id, static_cast<uint64_t>(after + 1)));
       cursor->Valid() && cursor->key().substr(0, prefix.size()) == prefix; cursor->Next()) {
    std::vector<HistoryEvent> row;
    if (Status s = DecodeHistoryRow(cursor->value(), &row); !s.ok()) {
      // The whole history's read names the event that does not decode.
      Status named = internal::LoadHistory(*db, id).status();
      return named.ok() ? Status::Corruption("a history row of workflow " + id +
                                             " does not decode: " + s.message())
                        : named;
    }
    for (HistoryEvent& e : row) {
      if (e.event_id <= after) continue;
      out.push_back(std::move(e));
      if (limit > 0 && static_cast<int64_t>(out.size()) >= limit) return out;
    }
  }
  RETURN_IF_ERROR(cursor->status());
  return out;
}

Result<std::vector<ActivityRecord>> Engine::ReadActivities(const std::string& id, int64_t after,
                                                           int64_t limit) const {
  std::vector<ActivityRecord> out;
  if (limit <= 0) return out;
  // Bounded by the last id wanted: a remote store reads those rows and no others.
  const uint64_t first = after < 0 ? 0 : static_cast<uint64_t>(after) + 1;
  const uint64_t count = static_cast<uint64_t>(limit);
  const uint64_t end = count > UINT64_MAX - first ? UINT64_MAX : first + count;
  Status problem;
  RETURN_IF_ERROR(rep_->db->ScanRange(
      Table::kActivities, storage::ActivityKey(id, first), storage::ActivityKey(id, end),
      [&](std::string_view key, std::string_view value) {
        std::string_view wf;
        uint64_t aid;
        if (!storage::DecodeActivityKey(key, &wf, &aid)) return true;
        auto r = DecodeActivityRecord(static_cast<int64_t>(aid), value);
        if (!r.ok()) {
          problem = r.status();
          return false;
        }
        out.push_back(std::move(r).value());
        return true;
      }));
  RETURN_IF_ERROR(problem);
  return out;
}

Result<std::optional<std::string>> Engine::ReadBlob(const std::string& id,
                                                    const std::string& name) const {
  return rep_->db->Get(Table::kBlobs, storage::BlobKey(id, name));
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
  auto record = Describe(id);
  // Open on disk but not live (recovering, or not resumable): no commit will come to call
  // `fn`, and calling it now would invite a re-subscribe loop. The caller reads the record.
  // In cluster mode it may run on another node: its row in the store is watched instead.
  if (!record.ok()) return false;
  if (record->status == ExecutionStatus::kRunning) return rep_->WatchRemote(*record, std::move(fn));
  fn();
  return true;
}

}  // namespace papr::engine
