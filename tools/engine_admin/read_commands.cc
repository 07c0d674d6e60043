// list, describe, history and export: read-only views of the engine's tables.

#include <algorithm>
#include <limits>

#include "common/json_writer.h"
#include "engine/history_rows.h"
#include "storage/keys.h"
#include "tools/engine_admin/admin_store.h"
#include "tools/engine_admin/commands.h"
#include "tools/engine_admin/history_json.h"
#include "tools/engine_admin/payload_view.h"
#include "tools/engine_admin/text_util.h"
#include "workflows/batch_codec.h"

namespace papr::engine_admin {
namespace {

using engine::ActivityRecord;
using engine::ActivityState;
using engine::ExecutionRecord;
using engine::ExecutionStatus;
using engine::HistoryEvent;
using storage::Table;

constexpr int64_t kDefaultListLimit = 100;
constexpr size_t kMaxListedRows = 100;  // backing-off activities shown by describe

void TimeField(JsonWriter& w, const char* key, int64_t millis) {
  if (millis == 0) {
    w.Key(key).Null();
  } else {
    w.Field(key, FormatRfc3339(millis));
  }
}

//! Everything describe shows about one execution, gathered from the engine's tables.
struct Inspection {
  ExecutionRecord record;
  int64_t history_events = 0;
  int64_t history_bytes = 0;
  struct Timer {
    int64_t fire_ms;
    std::string timer_id;
  };
  std::vector<Timer> timers;
  int64_t rows_succeeded = 0, rows_failed = 0;
  std::vector<ActivityRecord> backing_off;
  std::vector<std::pair<std::string, std::string>> children;  // id, status
  bool has_batch = false;
  workflows::BatchHeader batch;
};

void NoteEvent(const engine::HistoryEvent& e, Inspection* in,
               std::vector<std::string>* child_ids) {
  if (e.type == engine::EventType::kWorkflowExecutionStarted) {
    auto header = workflows::DecodeBatchHeader(e.payload);
    in->has_batch = header.ok() && in->record.workflow_type.rfind("batch_memory", 0) == 0;
    if (in->has_batch) in->batch = std::move(header).value();
  }
  if (e.type == engine::EventType::kStartChildWorkflowExecutionInitiated) {
    child_ids->push_back(e.child_workflow_id);
  }
}

Status ScanHistory(storage::Db* db, const std::string& id, Inspection* in,
                   std::vector<std::string>* child_ids) {
  return db->ScanPrefix(
      Table::kHistory, storage::HistoryPrefix(id), [&](std::string_view, std::string_view value) {
        in->history_bytes += static_cast<int64_t>(value.size());
        std::vector<engine::HistoryEvent> row;
        // One that does not decode is counted and skipped: describe's "resumable" line
        // names it (an execution with one is what reset and fail are for).
        if (!engine::DecodeHistoryRow(value, &row).ok()) in->history_events++;
        in->history_events += static_cast<int64_t>(row.size());
        for (const engine::HistoryEvent& e : row) NoteEvent(e, in, child_ids);
        return true;
      });
}

Status ScanTimers(storage::Db* db, const std::string& id, Inspection* in) {
  // kTimers is ordered by fire time, not by workflow: a full scan, filtered.
  return db->ScanPrefix(Table::kTimers, "", [&](std::string_view key, std::string_view) {
    uint64_t fire = 0;
    std::string_view wf, timer_id;
    if (storage::DecodeTimerKey(key, &fire, &wf, &timer_id) && wf == id) {
      in->timers.push_back({static_cast<int64_t>(fire), std::string(timer_id)});
    }
    return true;
  });
}

Result<Inspection> Inspect(storage::Db* db, const engine::Engine& engine, const std::string& id) {
  Inspection in;
  ASSIGN_OR_RETURN(in.record, engine.Describe(id));
  std::vector<std::string> child_ids;
  RETURN_IF_ERROR(ScanHistory(db, id, &in, &child_ids));
  RETURN_IF_ERROR(ScanTimers(db, id, &in));
  ASSIGN_OR_RETURN(auto rows,
                   engine.ReadActivities(id, -1, std::numeric_limits<int64_t>::max() / 2));
  for (auto& row : rows) {
    if (row.state == ActivityState::kSucceeded) in.rows_succeeded++;
    if (row.state == ActivityState::kFailed) in.rows_failed++;
    if (row.state == ActivityState::kBackingOff && in.backing_off.size() < kMaxListedRows) {
      in.backing_off.push_back(std::move(row));
    }
  }
  for (const auto& child : child_ids) {
    auto r = engine.Describe(child);
    in.children.emplace_back(child, r.ok() ? ExecutionStatusName(r->status) : "not found");
  }
  return in;
}

void BatchJson(JsonWriter& w, const workflows::BatchHeader& h) {
  w.Key("batch").BeginObject().Field("user_id", h.user_id).Field("total", h.total);
  w.Field("max_concurrency", h.max_concurrency);
  w.Field("tolerated_failure_count", h.tolerated_failure_count);
  w.Key("tolerated_failure_percentage").Double(h.tolerated_failure_percentage);
  w.Field("webhook_url", h.webhook_url).Field("total_content_size", h.total_content_size);
  if (!h.root_batch_id.empty()) {
    w.Field("root_batch_id", h.root_batch_id).Field("lo", h.lo).Field("hi", h.hi);
  }
  w.EndObject();
}

void ActivitiesJson(JsonWriter& w, const Inspection& in) {
  const ExecutionRecord& r = in.record;
  w.Key("activities").BeginObject();
  w.Field("scheduled", r.activities_scheduled).Field("succeeded", r.activities_succeeded);
  w.Field("failed", r.activities_failed).Field("pending", r.activities_pending());
  w.Field("retries", r.activity_retries)
      .Field("backing_off", static_cast<int64_t>(in.backing_off.size()));
  w.EndObject();
  w.Key("first_failures").BeginArray();
  for (const auto& f : r.first_failures) {
    w.BeginObject().Field("activity_id", f.activity_id).Field("error", f.error);
    w.Field("error_type", f.error_type).EndObject();
  }
  w.EndArray().Key("retrying").BeginArray();
  for (const auto& a : in.backing_off) {
    w.BeginObject().Field("activity_id", a.activity_id).Field("failed_attempts", a.attempts);
    w.Field("last_error", a.error);
    TimeField(w, "next_attempt_time", a.next_attempt_ms);
    w.EndObject();
  }
  w.EndArray();
}

std::string DescribeJson(const Inspection& in) {
  const ExecutionRecord& r = in.record;
  JsonWriter w;
  w.BeginObject().Field("workflow_id", r.workflow_id).Field("workflow_type", r.workflow_type);
  w.Field("owner", r.owner).FieldOrNull("parent_workflow_id", r.parent_workflow_id);
  w.Field("status", ExecutionStatusName(r.status)).Field("cancel_requested", r.cancel_requested);
  TimeField(w, "start_time", r.start_ms);
  TimeField(w, "close_time", r.close_ms);
  TimeField(w, "updated_time", r.updated_ms);
  w.Field("history_events", in.history_events).Field("history_bytes", in.history_bytes);
  w.Key("progress").BeginObject().Field("succeeded", r.progress_succeeded);
  w.Field("failed", r.progress_failed).Field("canceled", r.progress_canceled).EndObject();
  ActivitiesJson(w, in);
  w.FieldOrNull("failure", r.failure).Field("result_bytes", static_cast<int64_t>(r.result.size()));
  w.Key("timers").BeginArray();
  for (const auto& t : in.timers) {
    w.BeginObject().Field("timer_id", t.timer_id);
    TimeField(w, "fire_time", t.fire_ms);
    w.EndObject();
  }
  w.EndArray().Key("children").BeginArray();
  for (const auto& [id, status] : in.children) {
    w.BeginObject().Field("workflow_id", id).Field("status", status).EndObject();
  }
  w.EndArray();
  if (in.has_batch) BatchJson(w, in.batch);
  w.EndObject();
  return w.Take() + "\n";
}

std::string DescribeText(const Inspection& in) {
  const ExecutionRecord& r = in.record;
  std::string out;
  auto line = [&](const std::string& key, const std::string& value) {
    out += key + ":" + std::string(key.size() < 20 ? 20 - key.size() : 1, ' ') + value + "\n";
  };
  auto n = [](int64_t v) { return std::to_string(v); };
  line("workflow_id", Printable(r.workflow_id));
  line("type", r.workflow_type);
  line("owner", Printable(r.owner));
  if (!r.parent_workflow_id.empty()) line("parent", Printable(r.parent_workflow_id));
  line("status", std::string(ExecutionStatusName(r.status)) +
                     (r.cancel_requested ? " (cancel requested)" : ""));
  line("started", TimeText(r.start_ms));
  line("closed", TimeText(r.close_ms));
  line("updated", TimeText(r.updated_ms));
  line("history", n(in.history_events) + " events, " + n(in.history_bytes) + " bytes");
  line("progress", "succeeded " + n(r.progress_succeeded) + ", failed " + n(r.progress_failed) +
                       ", canceled " + n(r.progress_canceled));
  line("activities", "scheduled " + n(r.activities_scheduled) + ", succeeded " +
                         n(r.activities_succeeded) + ", failed " + n(r.activities_failed) +
                         ", pending " + n(r.activities_pending()));
  line("retries", n(r.activity_retries) + " (" + n(static_cast<int64_t>(in.backing_off.size())) +
                      " activities backing off now)");
  if (in.has_batch) {
    line("batch",
         "user " + Printable(in.batch.user_id) + ", " + n(in.batch.total) + " memories" +
             (in.batch.webhook_url.empty() ? "" : ", webhook " + Printable(in.batch.webhook_url)));
  }
  if (!r.failure.empty()) line("failure", Printable(r.failure));
  for (const auto& f : r.first_failures) {
    line("failed activity",
         n(f.activity_id) + " [" + Printable(f.error_type) + "] " + Printable(f.error));
  }
  for (const auto& a : in.backing_off) {
    line("retrying activity", n(a.activity_id) + " after " + n(a.attempts) +
                                  " failed attempt(s), next " + TimeText(a.next_attempt_ms) + ": " +
                                  Printable(a.error));
  }
  for (const auto& t : in.timers)
    line("timer", Printable(t.timer_id) + " fires " + TimeText(t.fire_ms));
  for (const auto& [id, status] : in.children)
    line("child", Printable(id) + " " + status);
  return out;
}

std::optional<ExecutionStatus> StatusFilter(const Flags& flags) {
  ExecutionStatus s;
  if (flags.status && engine::ParseExecutionStatus(*flags.status, &s)) return s;
  return std::nullopt;
}

}  // namespace

Result<CommandOutput> RunList(const Flags& flags) {
  ASSIGN_OR_RETURN(auto store, OpenForReadCommand(flags));
  engine::Engine engine(store->db(), {});
  int64_t limit = flags.limit > 0 ? flags.limit : kDefaultListLimit;
  ASSIGN_OR_RETURN(auto records, engine.ListByStatus(StatusFilter(flags), flags.type ? 0 : limit));
  std::vector<ExecutionRecord> shown;
  for (auto& r : records) {
    if (flags.type && r.workflow_type != *flags.type) continue;
    if (static_cast<int64_t>(shown.size()) >= limit) break;
    shown.push_back(std::move(r));
  }
  CommandOutput out;
  if (flags.json) {
    JsonWriter w;
    w.BeginObject().Key("executions").BeginArray();
    for (const auto& r : shown) {
      w.BeginObject().Field("workflow_id", r.workflow_id).Field("workflow_type", r.workflow_type);
      w.Field("owner", r.owner).Field("status", ExecutionStatusName(r.status));
      TimeField(w, "start_time", r.start_ms);
      TimeField(w, "close_time", r.close_ms);
      w.Field("progress_succeeded", r.progress_succeeded)
          .Field("progress_failed", r.progress_failed);
      w.Field("progress_canceled", r.progress_canceled)
          .Field("activities_pending", r.activities_pending());
      w.EndObject();
    }
    w.EndArray().Field("count", static_cast<int64_t>(shown.size())).EndObject();
    out.text = w.Take() + "\n";
    return out;
  }
  TextTable table({"WORKFLOW_ID", "TYPE", "STATUS", "STARTED", "CLOSED", "OK", "FAILED", "CANCELED",
                   "PENDING"});
  for (const auto& r : shown) {
    table.AddRow({Printable(r.workflow_id), r.workflow_type, ExecutionStatusName(r.status),
                  TimeText(r.start_ms), TimeText(r.close_ms), std::to_string(r.progress_succeeded),
                  std::to_string(r.progress_failed), std::to_string(r.progress_canceled),
                  std::to_string(r.activities_pending())});
  }
  out.text = table.Render();
  return out;
}

Result<CommandOutput> RunDescribe(const Flags& flags) {
  ASSIGN_OR_RETURN(auto store, OpenForReadCommand(flags));
  engine::Engine engine(store->db(), {});
  ASSIGN_OR_RETURN(Inspection in, Inspect(store->db(), engine, flags.args[0]));
  if (flags.json || in.record.status != ExecutionStatus::kRunning) {
    return CommandOutput{flags.json ? DescribeJson(in) : DescribeText(in), 0};
  }
  // An open execution: would the server resume it? (reset or fail it if not)
  std::string problem = ResumeProblem(flags, store->db(), flags.args[0]);
  return CommandOutput{DescribeText(in) + "resumable:          " +
                           (problem.empty() ? "yes" : "NO: " + Printable(problem) +
                                                          " (engine-admin reset or fail it)") +
                           "\n",
                       0};
}

// Decoded payloads unless --raw (then the stored bytes, as escaped text or base64).
std::string HistoryOutput(const engine::Engine& engine, const Flags& flags, const std::string& id,
                          const std::vector<HistoryEvent>& events, bool json) {
  std::vector<std::vector<engine::DecodedField>> decoded;
  if (!flags.raw) decoded = DecodePayloads(engine, id, events);
  if (json) return EncodeHistoryJson(id, events, flags.raw ? nullptr : &decoded);
  std::string text;
  for (size_t i = 0; i < events.size(); ++i) {
    const HistoryEvent& e = events[i];
    text += Printable(flags.raw ? engine::DescribeEvent(e)
                                : engine::DescribeDecodedEvent(e, decoded[i])) + "\n";
  }
  return text;
}

Result<CommandOutput> RunHistory(const Flags& flags) {
  ASSIGN_OR_RETURN(auto store, OpenForReadCommand(flags));
  engine::Engine engine(store->db(), {});
  const std::string& id = flags.args[0];
  RETURN_IF_ERROR(engine.Describe(id).status());
  ASSIGN_OR_RETURN(auto events, engine.ReadHistory(id, flags.after, flags.limit));
  return CommandOutput{HistoryOutput(engine, flags, id, events, flags.json), 0};
}

Result<CommandOutput> RunExport(const Flags& flags) {
  ASSIGN_OR_RETURN(auto store, OpenForReadCommand(flags));
  engine::Engine engine(store->db(), {});
  const std::string& id = flags.args[0];
  ASSIGN_OR_RETURN(auto events, engine.ReadHistory(id));
  if (events.empty()) return Status::NotFound("workflow " + id + " has no history");
  return CommandOutput{HistoryOutput(engine, flags, id, events, true), 0};
}

}  // namespace papr::engine_admin
