// replay: runs recorded histories through the workflow code compiled into this build
// (Engine::ReplayCheck) to find non-determinism before a deploy or after an incident.

#include <fstream>
#include <sstream>

#include "common/json_writer.h"
#include "tools/engine_admin/admin_store.h"
#include "tools/engine_admin/commands.h"
#include "tools/engine_admin/history_json.h"
#include "tools/engine_admin/text_util.h"

namespace papr::engine_admin {
namespace {

using engine::HistoryEvent;

//! The outcome of replaying one history.
struct ReplayOutcome {
  std::string workflow_id;
  int64_t events = 0;
  Status status;
};

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A replayable history starts with WorkflowExecutionStarted as event 1, ids dense.
Status CheckComplete(const std::vector<HistoryEvent>& events) {
  if (events.empty()) return Status::InvalidArgument("the history has no events");
  if (events[0].type != engine::EventType::kWorkflowExecutionStarted) {
    return Status::InvalidArgument("the history does not start with WorkflowExecutionStarted");
  }
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].event_id != static_cast<int64_t>(i + 1)) {
      return Status::InvalidArgument("event #" + std::to_string(i) + " has event_id " +
                                     std::to_string(events[i].event_id) + ", expected " +
                                     std::to_string(i + 1) + " (ids must be dense from 1)");
    }
  }
  return Status::Ok();
}

ReplayOutcome ReplayOne(const engine::Engine& engine, const std::string& id,
                        const std::vector<HistoryEvent>& events) {
  ReplayOutcome outcome{id, static_cast<int64_t>(events.size()), CheckComplete(events)};
  if (outcome.status.ok()) outcome.status = engine.ReplayCheck(id, events);
  return outcome;
}

std::string Verdict(const Status& s) {
  if (s.ok()) return "OK";
  return s.message().rfind("non-determinism", 0) == 0 ? "MISMATCH" : "FAILED";
}

// `config_source` is left out when empty (--all names it once).
void OutcomeJson(JsonWriter& w, const ReplayOutcome& o, const std::string& config_source) {
  w.BeginObject().Field("workflow_id", o.workflow_id).Field("events", o.events);
  if (!config_source.empty()) w.Field("config", config_source);
  w.Field("ok", o.status.ok()).Field("result", Verdict(o.status));
  w.FieldOrNull("error", o.status.message()).EndObject();
}

std::string OutcomeText(const ReplayOutcome& o) {
  std::string verdict = Verdict(o.status);
  if (o.status.ok()) {
    return "OK " + Printable(o.workflow_id) + ": " + std::to_string(o.events) +
           " events replay deterministically";
  }
  return verdict + " " + Printable(o.workflow_id) + ": " + Printable(o.status.message());
}

// With built-in defaults the workflow may take other branches than the server's config made
// it take (e.g. features.max_concurrent_tasks): say so next to a failure.
std::string ConfigHint(const std::string& config_source) {
  return config_source == "built-in defaults"
             ? "note: replayed with the built-in config defaults; pass the server's --config "
               "(the batch workflow's choices depend on features.max_concurrent_tasks and "
               "webhooks.retry_schedule_seconds)\n"
             : "";
}

CommandOutput Render(const Flags& flags, const std::vector<ReplayOutcome>& outcomes,
                     const std::string& config_source) {
  int failures = 0;
  for (const auto& o : outcomes)
    failures += o.status.ok() ? 0 : 1;
  CommandOutput out;
  out.exit_code = failures > 0 ? 1 : 0;
  if (flags.json && !flags.all) {
    JsonWriter w;
    OutcomeJson(w, outcomes.front(), config_source);
    out.text = w.Take() + "\n";
    return out;
  }
  if (flags.json) {
    JsonWriter w;
    w.BeginObject().Field("config", config_source);
    w.Field("replayed", static_cast<int64_t>(outcomes.size())).Field("failures", failures);
    w.Key("failed").BeginArray();
    for (const auto& o : outcomes) {
      if (!o.status.ok()) OutcomeJson(w, o, "");
    }
    w.EndArray().EndObject();
    out.text = w.Take() + "\n";
    return out;
  }
  for (const auto& o : outcomes) {
    if (!flags.all || !o.status.ok()) out.text += OutcomeText(o) + "\n";
  }
  if (flags.all) {
    out.text += "replayed " + std::to_string(outcomes.size()) +
                " execution(s): " + std::to_string(failures) + " failed\n";
  }
  if (failures > 0) out.text += ConfigHint(config_source);
  return out;
}

Result<std::vector<ReplayOutcome>> ReplayStored(const Flags& flags, const config::Config& config) {
  ASSIGN_OR_RETURN(auto store, OpenForReadCommand(flags));
  WorkflowRuntime runtime(config, store->db(), {});
  const engine::Engine& engine = runtime.engine();
  std::vector<std::string> ids;
  if (flags.all) {
    std::optional<engine::ExecutionStatus> status;
    engine::ExecutionStatus parsed;
    if (flags.status && engine::ParseExecutionStatus(*flags.status, &parsed)) status = parsed;
    ASSIGN_OR_RETURN(auto records, engine.ListByStatus(status, 0));
    for (const auto& r : records)
      ids.push_back(r.workflow_id);
  } else {
    RETURN_IF_ERROR(engine.Describe(flags.args[0]).status());
    ids.push_back(flags.args[0]);
  }
  std::vector<ReplayOutcome> outcomes;
  for (const auto& id : ids) {
    auto events = engine.ReadHistory(id);
    if (!events.ok()) {  // e.g. an event that does not decode: a failure of this one only
      outcomes.push_back({id, 0, events.status()});
      continue;
    }
    outcomes.push_back(ReplayOne(engine, id, *events));
  }
  return outcomes;
}

}  // namespace

Result<CommandOutput> RunReplay(const Flags& flags) {
  std::string config_source;
  ASSIGN_OR_RETURN(config::Config config, LoadWorkflowConfig(flags, &config_source));
  if (flags.file.empty()) {
    ASSIGN_OR_RETURN(auto outcomes, ReplayStored(flags, config));
    return Render(flags, outcomes, config_source);
  }
  ASSIGN_OR_RETURN(std::string text, ReadFile(flags.file));
  auto doc = DecodeHistoryJson(text);
  if (!doc.ok()) return Status::InvalidArgument(flags.file + ": " + doc.status().message());
  // ReplayCheck reads no storage: the file is replayed without opening any database.
  WorkflowRuntime runtime(config, nullptr, {});
  return Render(flags, {ReplayOne(runtime.engine(), doc->workflow_id, doc->events)}, config_source);
}

}  // namespace papr::engine_admin
