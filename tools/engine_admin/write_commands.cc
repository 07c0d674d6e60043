// terminate, cancel, signal and retry in direct mode: the server is stopped, engine-admin
// opens the database read-write, registers this build's workflows, starts the engine with no
// activity workers (recovery replays the open executions but runs no activity), applies the
// one command through the Engine API, and shuts down.

#include <algorithm>
#include <limits>

#include <simdjson.h>

#include "common/crypto.h"
#include "common/json_writer.h"
#include "tools/engine_admin/admin_store.h"
#include "tools/engine_admin/commands.h"
#include "tools/engine_admin/text_util.h"
#include "workflows/batch_codec.h"

namespace papr::engine_admin {
namespace {

using engine::ExecutionRecord;
using engine::ExecutionStatus;

// Duplicated from durable_batch_service.cc (private there): memories are stored in blobs
// "memories/<chunk>" of kChunkSize each.
constexpr int64_t kChunkSize = 10000;
std::string MemoriesBlobName(int64_t chunk) { return "memories/" + std::to_string(chunk); }

//! One direct-mode run: the read-write database and the workflow runtime over it. The
//! runtime (and its engine threads) goes before the database.
class DirectSession {
 public:
  static Result<std::unique_ptr<DirectSession>> Open(const Flags& flags) {
    if (!flags.server_url.empty()) {
      return Status::FailedPrecondition(
          "--server is not available yet (the server has no admin endpoints): stop the server "
          "and run without --server (direct mode)");
    }
    std::unique_ptr<DirectSession> s(new DirectSession());
    ASSIGN_OR_RETURN(s->config_, LoadWorkflowConfig(flags.config_file, &s->config_source_));
    ASSIGN_OR_RETURN(s->store_, AdminStore::OpenForWriting(flags.data_dir));
    s->runtime_ = std::make_unique<WorkflowRuntime>(s->config_, s->store_->db(),
                                                    DirectModeEngineOptions(s->config_));
    return s;
  }
  ~DirectSession() { runtime_.reset(); }

  // Recovery of every open execution (needed before cancel/terminate/signal can reach one).
  Status StartEngine() { return runtime_->engine().Start(); }
  engine::Engine& engine() { return runtime_->engine(); }
  workflows::DurableBatchService& batches() { return runtime_->batches(); }
  const std::string& config_source() const { return config_source_; }

 private:
  DirectSession() = default;
  config::Config config_;
  std::string config_source_;
  std::unique_ptr<AdminStore> store_;
  std::unique_ptr<WorkflowRuntime> runtime_;
};

//! What a write command reports.
struct WriteReport {
  std::string command;
  std::string workflow_id;
  ExecutionRecord after;  // the execution's record once the command is durable
  std::vector<std::pair<std::string, std::string>> children;  // id, what happened
  std::string note;
  // retry: the batch started for the failed memories.
  std::string new_batch_id;
  int64_t retried = 0;
  bool existing = false;  // this batch had been retried before: that retry is the answer
};

CommandOutput Render(const Flags& flags, const DirectSession& session, const WriteReport& r) {
  const char* kMode = "direct (server stopped; database opened read-write; no activity ran)";
  if (flags.json) {
    JsonWriter w;
    w.BeginObject().Field("mode", "direct").Field("config", session.config_source());
    w.Field("command", r.command).Field("workflow_id", r.workflow_id);
    w.Field("status", ExecutionStatusName(r.after.status));
    w.Field("cancel_requested", r.after.cancel_requested).Key("children").BeginArray();
    for (const auto& [id, what] : r.children) {
      w.BeginObject().Field("workflow_id", id).Field("result", what).EndObject();
    }
    w.EndArray();
    if (!r.new_batch_id.empty()) {
      w.Key("retry").BeginObject().Field("batch_id", r.new_batch_id);
      w.Field("memories", r.retried).Field("existing", r.existing).EndObject();
    }
    w.FieldOrNull("note", r.note).EndObject();
    return {w.Take() + "\n", 0};
  }
  std::string text =
      std::string("mode: ") + kMode + "; workflow config: " + session.config_source() + "\n";
  text += r.command + " " + Printable(r.workflow_id) + ": now " +
          ExecutionStatusName(r.after.status) +
          (r.after.cancel_requested && r.after.status == ExecutionStatus::kRunning
               ? " (cancel requested)"
               : "") +
          "\n";
  for (const auto& [id, what] : r.children)
    text += "  child " + Printable(id) + ": " + what + "\n";
  if (!r.new_batch_id.empty()) {
    text += std::string(r.existing ? "already retried as batch " : "started batch ") +
            r.new_batch_id + " with the " + std::to_string(r.retried) + " failed memories\n";
  }
  if (!r.note.empty()) text += r.note + "\n";
  return {text, 0};
}

Result<ExecutionRecord> RequireRunning(const engine::Engine& engine, const std::string& id) {
  ASSIGN_OR_RETURN(ExecutionRecord r, engine.Describe(id));
  if (r.status != ExecutionStatus::kRunning) {
    return Status::FailedPrecondition("workflow " + id + " is already " +
                                      ExecutionStatusName(r.status));
  }
  return r;
}

// The engine answers "already running" for an open execution that it could not resume
// (recovery skipped it: its history does not replay). Say that instead.
Status ExplainDeliveryFailure(DirectSession& session, const std::string& id, Status s) {
  const engine::Engine& engine = session.engine();
  auto r = engine.Describe(id);
  if (s.code() != StatusCode::kFailedPrecondition || !r.ok() ||
      r->status != ExecutionStatus::kRunning) {
    return s;
  }
  auto history = engine.ReadHistory(id);
  Status replay = history.ok() ? engine.ReplayCheck(id, *history) : history.status();
  return Status::FailedPrecondition(
      "workflow " + id +
      " is open but the engine could not resume it, so it cannot apply the "
      "command (" +
      (replay.ok() ? s.message() : replay.message()) + ")" +
      (session.config_source() == "built-in defaults"
           ? "; the workflow code ran with the built-in config defaults: pass the server's "
             "--config"
           : ""));
}

// Children this execution started, from its history (StartChildWorkflowExecutionInitiated).
Result<std::vector<std::string>> ChildIds(const engine::Engine& engine, const std::string& id) {
  ASSIGN_OR_RETURN(auto events, engine.ReadHistory(id));
  std::vector<std::string> ids;
  for (const auto& e : events) {
    if (e.type == engine::EventType::kStartChildWorkflowExecutionInitiated) {
      ids.push_back(e.child_workflow_id);
    }
  }
  return ids;
}

// Applies `op` to each open child (after the parent, so no parent reacts to a child it is
// about to lose). The engine does not pass terminate on to children by itself.
Status ForOpenChildren(engine::Engine& engine, const std::string& id,
                       const std::function<Status(const std::string&)>& op, WriteReport* report) {
  ASSIGN_OR_RETURN(auto children, ChildIds(engine, id));
  for (const auto& child : children) {
    auto r = engine.Describe(child);
    if (!r.ok() || r->status != ExecutionStatus::kRunning) continue;
    Status s = op(child);
    report->children.emplace_back(child, s.ok() ? "done" : "failed: " + s.message());
  }
  return Status::Ok();
}

Result<WriteReport> Terminate(DirectSession& session, const std::string& id,
                              const std::string& reason) {
  engine::Engine& engine = session.engine();
  RETURN_IF_ERROR(RequireRunning(engine, id).status());
  Status s = engine.Terminate(id, reason);
  if (!s.ok()) return ExplainDeliveryFailure(session, id, s);
  WriteReport report;
  report.command = "terminate";
  report.workflow_id = id;
  RETURN_IF_ERROR(ForOpenChildren(
      engine, id,
      [&](const std::string& child) {
        return engine.Terminate(child, "parent " + id + " terminated: " + reason);
      },
      &report));
  ASSIGN_OR_RETURN(report.after, engine.Describe(id));
  return report;
}

Result<WriteReport> Cancel(DirectSession& session, const std::string& id,
                           const std::string& reason) {
  engine::Engine& engine = session.engine();
  RETURN_IF_ERROR(RequireRunning(engine, id).status());
  Status s = engine.RequestCancel(id, reason);
  if (!s.ok()) return ExplainDeliveryFailure(session, id, s);
  WriteReport report;
  report.command = "cancel";
  report.workflow_id = id;
  // The engine passes the cancel on to children after the parent's commit; asking them
  // here too makes it durable before this process exits (a second request is a no-op).
  RETURN_IF_ERROR(ForOpenChildren(
      engine, id, [&](const std::string& child) { return engine.RequestCancel(child, reason); },
      &report));
  ASSIGN_OR_RETURN(report.after, engine.Describe(id));
  if (report.after.status == ExecutionStatus::kRunning) {
    report.note =
        "the cancel request is recorded; the workflow winds down (its in-flight activities "
        "finish first) when the server runs it again";
  }
  return report;
}

Result<WriteReport> SignalExecution(DirectSession& session, const std::string& id,
                                    const std::string& name, const std::string& input) {
  engine::Engine& engine = session.engine();
  RETURN_IF_ERROR(RequireRunning(engine, id).status());
  Status s = engine.Signal(id, name, input);
  if (!s.ok()) return ExplainDeliveryFailure(session, id, s);
  WriteReport report;
  report.command = "signal";
  report.workflow_id = id;
  ASSIGN_OR_RETURN(report.after, engine.Describe(id));
  return report;
}

Status CheckJson(const std::string& text) {
  if (text.empty()) return Status::Ok();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(simdjson::padded_string(text)).get(doc) != simdjson::SUCCESS) {
    return Status::InvalidArgument("--input is not valid JSON");
  }
  return Status::Ok();
}

}  // namespace

Result<CommandOutput> RunTerminate(const Flags& flags) {
  ASSIGN_OR_RETURN(auto session, DirectSession::Open(flags));
  RETURN_IF_ERROR(session->StartEngine());
  ASSIGN_OR_RETURN(WriteReport report, Terminate(*session, flags.args[0], *flags.reason));
  return Render(flags, *session, report);
}

Result<CommandOutput> RunCancel(const Flags& flags) {
  ASSIGN_OR_RETURN(auto session, DirectSession::Open(flags));
  RETURN_IF_ERROR(session->StartEngine());
  std::string reason = flags.reason.value_or("cancelled with engine-admin");
  ASSIGN_OR_RETURN(WriteReport report, Cancel(*session, flags.args[0], reason));
  return Render(flags, *session, report);
}

Result<CommandOutput> RunSignal(const Flags& flags) {
  RETURN_IF_ERROR(CheckJson(flags.input));
  ASSIGN_OR_RETURN(auto session, DirectSession::Open(flags));
  RETURN_IF_ERROR(session->StartEngine());
  ASSIGN_OR_RETURN(WriteReport report,
                   SignalExecution(*session, flags.args[0], flags.args[1], flags.input));
  return Render(flags, *session, report);
}

// ---- retry

namespace {

// The memories of batch `id` whose activity rows say failed, in index order. A batch above
// kChunkSize ran its memories in child executions: their rows are there.
Result<std::vector<int64_t>> FailedIndexes(const engine::Engine& engine, const std::string& id,
                                           int64_t total) {
  std::vector<std::string> owners = {id};
  ASSIGN_OR_RETURN(auto children, ChildIds(engine, id));
  owners.insert(owners.end(), children.begin(), children.end());
  std::vector<int64_t> failed;
  for (const auto& owner : owners) {
    ASSIGN_OR_RETURN(auto rows,
                     engine.ReadActivities(owner, -1, std::numeric_limits<int64_t>::max() / 2));
    for (const auto& row : rows) {
      // Activity ids below `total` are memory indexes (webhook attempts use far larger ids).
      if (row.state == engine::ActivityState::kFailed && row.activity_id < total) {
        failed.push_back(row.activity_id);
      }
    }
  }
  std::sort(failed.begin(), failed.end());
  failed.erase(std::unique(failed.begin(), failed.end()), failed.end());
  return failed;
}

Result<std::vector<workflows::MemoryInput>> LoadMemories(const engine::Engine& engine,
                                                         const std::string& id,
                                                         const std::vector<int64_t>& indexes) {
  std::vector<workflows::MemoryInput> out;
  int64_t loaded_chunk = -1;
  std::vector<workflows::MemoryInput> chunk;
  for (int64_t index : indexes) {
    if (index / kChunkSize != loaded_chunk) {
      loaded_chunk = index / kChunkSize;
      ASSIGN_OR_RETURN(auto blob, engine.ReadBlob(id, MemoriesBlobName(loaded_chunk)));
      if (!blob)
        return Status::NotFound("batch " + id + " has no stored memories (blob " +
                                MemoriesBlobName(loaded_chunk) + ")");
      ASSIGN_OR_RETURN(chunk, workflows::DecodeMemories(*blob));
    }
    auto offset = static_cast<size_t>(index - loaded_chunk * kChunkSize);
    if (offset >= chunk.size())
      return Status::Corruption("memory " + std::to_string(index) + " is not in its blob");
    out.push_back(chunk[offset]);
  }
  return out;
}

Result<workflows::BatchRequest> RetryRequest(const engine::Engine& engine, const std::string& id,
                                             std::vector<int64_t>* indexes) {
  ASSIGN_OR_RETURN(ExecutionRecord record, engine.Describe(id));
  if (record.workflow_type != workflows::DurableBatchService::kWorkflowType) {
    return Status::InvalidArgument("workflow " + id + " is a " + record.workflow_type +
                                   ", not a batch (retry the root batch)");
  }
  if (record.status == ExecutionStatus::kRunning) {
    return Status::FailedPrecondition("batch " + id + " is still running");
  }
  ASSIGN_OR_RETURN(auto first, engine.ReadHistory(id, 0, 1));
  if (first.empty()) return Status::Corruption("batch " + id + " has no history");
  ASSIGN_OR_RETURN(workflows::BatchHeader h, workflows::DecodeBatchHeader(first[0].payload));
  ASSIGN_OR_RETURN(*indexes, FailedIndexes(engine, id, h.total));
  if (indexes->empty())
    return Status::FailedPrecondition("batch " + id + " has no failed memories");
  workflows::BatchRequest request;
  request.user_id = h.user_id;
  ASSIGN_OR_RETURN(request.memories, LoadMemories(engine, id, *indexes));
  request.max_concurrency = h.max_concurrency;
  if (h.tolerated_failure_count >= 0) request.tolerated_failure_count = h.tolerated_failure_count;
  if (h.tolerated_failure_percentage >= 0) {
    request.tolerated_failure_percentage = h.tolerated_failure_percentage;
  }
  request.webhook_url = h.webhook_url;
  // The secret is kept out of the history, in the batch's blob (see DurableBatchService).
  ASSIGN_OR_RETURN(auto secret, engine.ReadBlob(id, "webhook_secret"));
  request.webhook_secret = secret.value_or("");
  // Retrying the same batch again finds this retry (Submit's idempotency), not a second one.
  request.idempotency_key = "engine-admin-retry:" + id;
  std::string signature = id;
  for (int64_t i : *indexes)
    signature += "," + std::to_string(i);
  request.body_hash = Sha256Hex(signature);
  return request;
}

}  // namespace

Result<CommandOutput> RunRetry(const Flags& flags) {
  ASSIGN_OR_RETURN(auto session, DirectSession::Open(flags));
  // No engine Start(): Submit only writes the new execution (its first activities are
  // dispatched by the server's recovery when it starts), so nothing else is resumed here.
  const std::string& id = flags.args[0];
  std::vector<int64_t> indexes;
  ASSIGN_OR_RETURN(workflows::BatchRequest request, RetryRequest(session->engine(), id, &indexes));
  ASSIGN_OR_RETURN(workflows::SubmitOutcome submitted,
                   session->batches().Submit(std::move(request)));
  WriteReport report;
  report.command = "retry";
  report.workflow_id = id;
  ASSIGN_OR_RETURN(report.after, session->engine().Describe(id));
  report.new_batch_id = submitted.batch_id;
  report.retried = static_cast<int64_t>(indexes.size());
  report.existing = submitted.existing;
  report.note =
      "the new batch runs when the server starts; its status: GET "
      "/v1/memory/batch/status/" +
      submitted.batch_id;
  return Render(flags, *session, report);
}

}  // namespace papr::engine_admin
