// reset and fail: operator repairs of an open execution the server could not resume (an
// event that does not decode, a gap in event ids, non-determinism). Direct mode only: the
// server is stopped and engine-admin opens the database read-write; the engine is not
// started (nothing is resumed or run here), it applies the one repair in one commit.

#include "common/json_writer.h"
#include "tools/engine_admin/admin_store.h"
#include "tools/engine_admin/commands.h"
#include "tools/engine_admin/text_util.h"

namespace papr::engine_admin {
namespace {

using engine::ExecutionStatus;

// Why `id` would not resume with the code of `engine`, or "" if it would.
std::string ReplayProblem(const engine::Engine& engine, const std::string& id) {
  auto history = engine.ReadHistory(id);
  if (!history.ok()) return history.status().message();
  for (size_t i = 0; i < history->size(); ++i) {
    if ((*history)[i].event_id != static_cast<int64_t>(i + 1)) {
      return "history has a gap: event " + std::to_string(i + 1) + " is missing";
    }
  }
  Status s = engine.ReplayCheck(id, *history);
  return s.ok() ? "" : s.message();
}

Result<CommandOutput> Render(const Flags& flags, const std::string& id, const std::string& status,
                             const std::string& what) {
  if (flags.json) {
    JsonWriter w;
    w.BeginObject().Field("mode", "direct").Field("command", flags.command);
    w.Field("workflow_id", id).Field("status", status).Field("note", what).EndObject();
    return CommandOutput{w.Take() + "\n", 0};
  }
  return CommandOutput{"mode: direct (server stopped; database opened read-write)\n" +
                           flags.command + " " + Printable(id) + ": now " + status + "\n" + what +
                           "\n",
                       0};
}

Status RefuseServerMode(const Flags& flags) {
  if (flags.server_url.empty()) return Status::Ok();
  return Status::FailedPrecondition(flags.command +
                                    " works in direct mode only: stop the server and pass "
                                    "--data-dir (without --server)");
}

}  // namespace

std::string ResumeProblem(const Flags& flags, storage::Db* db, const std::string& id) {
  std::string source;
  auto config = LoadWorkflowConfig(flags, &source);
  if (!config.ok()) return "cannot load the workflow config: " + config.status().message();
  WorkflowRuntime runtime(*config, db, {});
  return ReplayProblem(runtime.engine(), id);
}

Result<CommandOutput> RunReset(const Flags& flags) {
  RETURN_IF_ERROR(RefuseServerMode(flags));
  std::string source;
  ASSIGN_OR_RETURN(config::Config config, LoadWorkflowConfig(flags, &source));
  ASSIGN_OR_RETURN(auto store, AdminStore::OpenForWriting(config.storage));
  WorkflowRuntime runtime(config, store->db(), DirectModeEngineOptions(config));
  const std::string& id = flags.args[0];
  ASSIGN_OR_RETURN(int64_t kept, runtime.engine().Reset(id));
  return Render(flags, id, "running",
                "kept events 1.." + std::to_string(kept) +
                    " (the longest prefix that replays with this build's code, workflow config: " +
                    source + "); the server resumes it from there when it starts");
}

Result<CommandOutput> RunFail(const Flags& flags) {
  RETURN_IF_ERROR(RefuseServerMode(flags));
  std::string source;
  ASSIGN_OR_RETURN(config::Config config, LoadWorkflowConfig(flags, &source));
  ASSIGN_OR_RETURN(auto store, AdminStore::OpenForWriting(config.storage));
  engine::Engine engine(store->db(), {});
  const std::string& id = flags.args[0];
  RETURN_IF_ERROR(engine.ForceFail(id, *flags.reason));
  return Render(flags, id, ExecutionStatusName(ExecutionStatus::kFailed),
                "recorded WorkflowExecutionFailed: " + Printable(*flags.reason));
}

}  // namespace papr::engine_admin
