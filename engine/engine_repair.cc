// Operator repairs of an open execution the engine does not run: one recovery could not
// resume (engine-admin reset / fail, direct mode, server stopped). Each is one synced commit.
#include <algorithm>
#include <set>

#include "common/log.h"
#include "engine/history_rows.h"
#include "engine/internal/engine_rep.h"
#include "engine/internal/history_loader.h"

namespace papr::engine {
namespace {

struct StoredHistory {
  std::vector<HistoryEvent> good;  // the events before the first one that does not decode
  std::vector<uint64_t> row_ids;   // every stored row's key: its last event's id
};

Result<StoredHistory> ReadStored(const storage::Db& db, const std::string& id) {
  StoredHistory out;
  bool bad = false;
  RETURN_IF_ERROR(db.ScanPrefix(
      Table::kHistory, storage::HistoryPrefix(id), [&](std::string_view key, std::string_view value) {
        std::string_view wf;
        uint64_t row_id = 0;
        if (!storage::DecodeHistoryKey(key, &wf, &row_id)) return true;
        out.row_ids.push_back(row_id);
        std::vector<HistoryEvent> row;
        bool decoded = DecodeHistoryRow(value, &row).ok();  // `row`: the events before a fault
        for (HistoryEvent& e : row) {
          bad = bad || e.event_id != static_cast<int64_t>(out.good.size() + 1);
          if (!bad) out.good.push_back(std::move(e));
        }
        bad = bad || !decoded || out.good.size() != row_id;
        return true;
      }));
  return out;
}

bool IsFinalActivityEvent(EventType t) {
  return t == EventType::kActivityTaskCompleted || t == EventType::kActivityTaskFailed ||
         t == EventType::kActivityTaskTimedOut;
}

}  // namespace

Status Engine::Rep::CheckRepairable(const std::string& id, ExecutionRecord* record) const {
  if (Find(id)) {
    return Status::FailedPrecondition("workflow " + id +
                                      " is running in this engine; terminate it instead");
  }
  ASSIGN_OR_RETURN(*record, Describe(id));
  if (record->status != ExecutionStatus::kRunning) {
    return Status::FailedPrecondition("workflow " + id + " is already " +
                                      ExecutionStatusName(record->status));
  }
  return Status::Ok();
}

Status Engine::ForceFail(const std::string& id, const std::string& reason) {
  ExecutionRecord r;
  RETURN_IF_ERROR(rep_->CheckRepairable(id, &r));
  ASSIGN_OR_RETURN(StoredHistory stored, ReadStored(*rep_->db, id));
  // After every stored event, even one that does not decode: nothing is overwritten.
  int64_t last = stored.row_ids.empty() ? 0 : static_cast<int64_t>(stored.row_ids.back());
  HistoryEvent e;
  e.type = EventType::kWorkflowExecutionFailed;
  e.event_id = std::max(last, r.next_event_id - 1) + 1;
  e.time_ms = rep_->Now();
  e.failure = reason;
  storage::WriteBatch wb;
  StageHistoryRow(wb, id, {&e, 1});
  r.status = ExecutionStatus::kFailed;
  r.failure = reason;
  r.close_ms = r.updated_ms = e.time_ms;
  r.next_event_id = e.event_id + 1;
  wb.Put(Table::kExecutions, storage::ExecutionKey(id), EncodeExecutionRecord(r));
  auto start = static_cast<uint64_t>(r.start_ms);
  wb.Delete(Table::kVisibility,
            storage::VisibilityKey(static_cast<uint8_t>(ExecutionStatus::kRunning), start, id));
  wb.Put(Table::kVisibility,
         storage::VisibilityKey(static_cast<uint8_t>(ExecutionStatus::kFailed), start, id), "");
  RETURN_IF_ERROR(rep_->StageTimerDeletes(id, wb));
  RETURN_IF_ERROR(rep_->db->Write(wb));
  rep_->closed_rows.Erase(id);
  std::lock_guard lock(rep_->mu);
  rep_->unresumable.erase(id);
  return Status::Ok();
}

namespace {

// The length of the longest prefix of `good` that the registered code replays (a prefix of
// a replayable prefix replays too, so a binary search finds it); 0 if none.
size_t LongestReplayablePrefix(const Engine& engine, const std::string& id,
                               const std::vector<HistoryEvent>& good) {
  size_t lo = 0, hi = good.size();
  while (lo < hi) {
    size_t mid = (lo + hi + 1) / 2;
    std::vector<HistoryEvent> prefix(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(mid));
    if (engine.ReplayCheck(id, prefix).ok()) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

// Derived rows for the kept history `kept` (replayed into `exec`): user timers still pending
// get their row back; activity rows whose outcome was cut go (those activities run again).
Status StageKeptRows(const storage::Db& db, const std::string& id,
                     const std::vector<HistoryEvent>& kept, const Execution& exec,
                     storage::WriteBatch& wb) {
  std::set<int64_t> finished;
  for (const auto& e : kept) {
    if (IsFinalActivityEvent(e.type)) finished.insert(e.activity_id);
    if (e.type == EventType::kTimerStarted && exec.pending_user_timers.count(e.timer_id)) {
      wb.Put(Table::kTimers,
             storage::TimerKey(static_cast<uint64_t>(e.fire_at_ms), id,
                               "t:" + std::to_string(e.timer_id)),
             "");
    }
  }
  return db.ScanPrefix(Table::kActivities, storage::ActivityPrefix(id),
                       [&](std::string_view key, std::string_view) {
                         std::string_view wf;
                         uint64_t activity_id;
                         if (storage::DecodeActivityKey(key, &wf, &activity_id) &&
                             !finished.count(static_cast<int64_t>(activity_id))) {
                           wb.Delete(Table::kActivities, key);
                         }
                         return true;
                       });
}

}  // namespace

Result<int64_t> Engine::Reset(const std::string& id) {
  ExecutionRecord r;
  RETURN_IF_ERROR(rep_->CheckRepairable(id, &r));
  ASSIGN_OR_RETURN(StoredHistory stored, ReadStored(*rep_->db, id));
  size_t keep = LongestReplayablePrefix(*this, id, stored.good);
  if (keep == 0) {
    return Status::FailedPrecondition("workflow " + id +
                                      ": not even its start replays with this build's code");
  }
  std::vector<HistoryEvent> kept(stored.good.begin(),
                                 stored.good.begin() + static_cast<std::ptrdiff_t>(keep));
  Execution exec(id);
  RETURN_IF_ERROR(rep_->Replay(exec, kept));
  storage::WriteBatch wb;
  // Rows past the cut go; the kept events of the row the cut splits are stored again as a
  // row of their own, ending at the cut.
  uint64_t kept_rows_end = 0;
  for (uint64_t row_id : stored.row_ids) {
    if (row_id > keep) {
      wb.Delete(Table::kHistory, storage::HistoryKey(id, row_id));
    } else {
      kept_rows_end = row_id;
    }
  }
  if (kept_rows_end < keep) {
    StageHistoryRow(wb, id, std::span(kept).subspan(kept_rows_end));
  }
  RETURN_IF_ERROR(rep_->StageTimerDeletes(id, wb));
  RETURN_IF_ERROR(StageKeptRows(*rep_->db, id, kept, exec, wb));
  ExecutionRecord rebuilt = exec.record;
  rebuilt.status = ExecutionStatus::kRunning;
  rebuilt.next_event_id = static_cast<int64_t>(keep) + 1;
  rebuilt.updated_ms = rep_->Now();
  rebuilt.activity_retries = 0;
  wb.Put(Table::kExecutions, storage::ExecutionKey(id), EncodeExecutionRecord(rebuilt));
  RETURN_IF_ERROR(rep_->db->Write(wb));
  rep_->closed_rows.Erase(id);
  log::Info("workflow reset", {{"workflow_id", id}, {"kept_events", std::to_string(keep)}});
  std::lock_guard lock(rep_->mu);
  rep_->unresumable.erase(id);
  return static_cast<int64_t>(keep);
}

Status Engine::Rep::StageTimerDeletes(const std::string& id, storage::WriteBatch& wb) const {
  return db->ScanPrefix(Table::kTimers, "", [&](std::string_view key, std::string_view) {
    uint64_t fire;
    std::string_view wf, timer_id;
    if (storage::DecodeTimerKey(key, &fire, &wf, &timer_id) && wf == id) wb.Delete(Table::kTimers, key);
    return true;
  });
}

}  // namespace papr::engine
