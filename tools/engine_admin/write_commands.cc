// terminate, cancel, signal and retry. With --server (or $PAPR_SERVER) they go through the
// running server's admin endpoints (server_commands.cc). Otherwise direct mode: the server is
// stopped, engine-admin opens the database read-write, registers this build's workflows,
// starts the engine with no activity workers (recovery replays the open executions but runs
// no activity), applies the one command through DurableBatchService's operator methods (the
// ones the server's admin endpoints use), and shuts down.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <simdjson.h>

#include "common/json_writer.h"
#include "tools/engine_admin/admin_store.h"
#include "tools/engine_admin/commands.h"
#include "tools/engine_admin/text_util.h"
#include "tools/engine_admin/write_report.h"

namespace papr::engine_admin {
namespace {

using engine::ExecutionRecord;
using engine::ExecutionStatus;
using workflows::DurableBatchService;

//! One direct-mode run: the read-write database and the workflow runtime over it. The
//! runtime (and its engine threads) goes before the database.
class DirectSession {
 public:
  static Result<std::unique_ptr<DirectSession>> Open(const Flags& flags) {
    std::unique_ptr<DirectSession> s(new DirectSession());
    ASSIGN_OR_RETURN(s->config_, LoadWorkflowConfig(flags, &s->config_source_));
    ASSIGN_OR_RETURN(s->store_, AdminStore::OpenForWriting(s->config_.storage));
    s->runtime_ = std::make_unique<WorkflowRuntime>(s->config_, s->store_->db(),
                                                    DirectModeEngineOptions(s->config_));
    return s;
  }
  ~DirectSession() { runtime_.reset(); }

  // Recovery of every open execution (needed before cancel/terminate/signal can reach one).
  Status StartEngine() { return runtime_->engine().Start(); }
  engine::Engine& engine() { return runtime_->engine(); }
  DurableBatchService& batches() { return runtime_->batches(); }
  const std::string& config_source() const { return config_source_; }

  // A report of `command` on `id` with the execution's record as it is now.
  Result<WriteReport> Report(const std::string& command, const std::string& id) {
    WriteReport r;
    r.mode = "direct";
    r.mode_detail =
        "(server stopped; database opened read-write; no activity ran); workflow "
        "config: " +
        config_source_;
    r.mode_fields = {{"config", config_source_}};
    r.command = command;
    r.workflow_id = id;
    ASSIGN_OR_RETURN(ExecutionRecord after, engine().Describe(id));
    r.status = ExecutionStatusName(after.status);
    r.cancel_requested = after.cancel_requested;
    r.children.emplace();
    return r;
  }

 private:
  DirectSession() = default;
  config::Config config_;
  std::string config_source_;
  std::unique_ptr<AdminStore> store_;
  std::unique_ptr<WorkflowRuntime> runtime_;
};

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

void AddChildren(const std::vector<DurableBatchService::ChildAction>& children,
                 WriteReport* report) {
  for (const auto& c : children) {
    report->children->emplace_back(c.workflow_id,
                                   c.status.ok() ? "done" : "failed: " + c.status.message());
  }
}

// Runs `command` in direct mode: opens the session, starts the engine, calls `apply`.
using DirectAction = std::function<Status(DirectSession&, const std::string& id,
                                          std::vector<DurableBatchService::ChildAction>*)>;
Result<CommandOutput> RunDirect(const Flags& flags, const DirectAction& apply) {
  ASSIGN_OR_RETURN(auto session, DirectSession::Open(flags));
  RETURN_IF_ERROR(session->StartEngine());
  const std::string& id = flags.args[0];
  std::vector<DurableBatchService::ChildAction> children;
  Status s = apply(*session, id, &children);
  if (!s.ok())
    return ExplainDeliveryFailure(*session, id, s);
  ASSIGN_OR_RETURN(WriteReport report, session->Report(flags.command, id));
  AddChildren(children, &report);
  if (flags.command == "cancel" && report.status == "running") {
    report.note =
        "the cancel request is recorded; the workflow winds down (its in-flight activities "
        "finish first) when the server runs it again";
  }
  return RenderWriteReport(flags, report);
}

}  // namespace

Status CheckInputJson(const std::string& text) {
  if (text.empty())
    return Status::Ok();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(simdjson::padded_string(text)).get(doc) != simdjson::SUCCESS) {
    return Status::InvalidArgument("--input is not valid JSON");
  }
  return Status::Ok();
}

CommandOutput RenderWriteReport(const Flags& flags, const WriteReport& r) {
  if (flags.json) {
    JsonWriter w;
    w.BeginObject().Field("mode", r.mode);
    for (const auto& [key, value] : r.mode_fields)
      w.Field(key, value);
    w.Field("command", r.command).Field("workflow_id", r.workflow_id);
    w.Field("status", r.status).Field("cancel_requested", r.cancel_requested);
    if (r.children) {
      w.Key("children").BeginArray();
      for (const auto& [id, what] : *r.children) {
        w.BeginObject().Field("workflow_id", id).Field("result", what).EndObject();
      }
      w.EndArray();
    }
    if (!r.new_batch_id.empty()) {
      w.Key("retry").BeginObject().Field("batch_id", r.new_batch_id);
      w.Field("memories", r.retried).Field("existing", r.existing).EndObject();
    }
    w.FieldOrNull("note", r.note).EndObject();
    return {w.Take() + "\n", 0};
  }
  std::string text = "mode: " + r.mode + " " + r.mode_detail + "\n";
  text += r.command + " " + Printable(r.workflow_id) + ": now " + r.status +
          (r.cancel_requested && r.status == "running" ? " (cancel requested)" : "") + "\n";
  if (r.children) {
    for (const auto& [id, what] : *r.children)
      text += "  child " + Printable(id) + ": " + what + "\n";
  }
  if (!r.new_batch_id.empty()) {
    text += std::string(r.existing ? "already retried as batch " : "started batch ") +
            r.new_batch_id + " with the " + std::to_string(r.retried) + " failed memories\n";
  }
  if (!r.note.empty())
    text += r.note + "\n";
  return {text, 0};
}

Result<CommandOutput> RunTerminate(const Flags& flags) {
  if (ServerMode(flags))
    return RunThroughServer(flags);
  return RunDirect(flags, [&](DirectSession& s, const std::string& id, auto* children) {
    return s.batches().TerminateExecution(id, *flags.reason, children);
  });
}

Result<CommandOutput> RunCancel(const Flags& flags) {
  if (ServerMode(flags))
    return RunThroughServer(flags);
  std::string reason = flags.reason.value_or("cancelled with engine-admin");
  return RunDirect(flags, [&](DirectSession& s, const std::string& id, auto* children) {
    return s.batches().CancelExecution(id, reason, children);
  });
}

Result<CommandOutput> RunSignal(const Flags& flags) {
  RETURN_IF_ERROR(CheckInputJson(flags.input));
  if (ServerMode(flags))
    return RunThroughServer(flags);
  return RunDirect(flags, [&](DirectSession& s, const std::string& id, auto*) {
    return s.batches().SignalExecution(id, flags.args[1], flags.input);
  });
}

Result<CommandOutput> RunRetry(const Flags& flags) {
  if (ServerMode(flags))
    return RunThroughServer(flags);
  ASSIGN_OR_RETURN(auto session, DirectSession::Open(flags));
  // No engine Start(): Submit only writes the new execution (its first activities are
  // dispatched by the server's recovery when it starts), so nothing else is resumed here.
  const std::string& id = flags.args[0];
  std::vector<int64_t> indexes;
  ASSIGN_OR_RETURN(workflows::BatchRequest request,
                   session->batches().RetryRequestFor(id, &indexes));
  ASSIGN_OR_RETURN(workflows::SubmitOutcome submitted,
                   session->batches().Submit(std::move(request)));
  ASSIGN_OR_RETURN(WriteReport report, session->Report("retry", id));
  report.new_batch_id = submitted.batch_id;
  report.retried = static_cast<int64_t>(indexes.size());
  report.existing = submitted.existing;
  report.note =
      "the new batch runs when the server starts; its status: GET "
      "/v1/memory/batch/status/" +
      submitted.batch_id;
  return RenderWriteReport(flags, report);
}

}  // namespace papr::engine_admin
