// GET /v1/admin/workflows/{id}/history: a page of an execution's events, each with its
// attributes as one line ("details", abbreviated bytes) and its binary fields decoded by the
// workflow type's PayloadFormatter ("payload", "options": JSON values).
#include "common/json_writer.h"
#include "workflows/durable_batch_service.h"
#include "workflows/internal/durable_batch_rep.h"

namespace papr::workflows {
namespace {

void WriteEvent(JsonWriter& w, const engine::HistoryEvent& e,
                engine::HistoryPayloadReader& reader) {
  std::string details = engine::DescribeEvent(e);
  // DescribeEvent starts with "<id> <Type>"; the rest are the attributes.
  size_t attrs = details.find(' ', details.find(' ') + 1);
  w.BeginObject().Field("event_id", e.event_id).Field("type", engine::EventTypeName(e.type));
  w.Field("time", FormatRfc3339(e.time_ms));
  w.Field("details", attrs == std::string::npos ? "" : details.substr(attrs + 1));
  if (engine::IsActivityEvent(e.type)) {
    w.Field("activity_id", e.activity_id);  // 0 too: it is not stored, but it is an id
    std::string activity_type = reader.ActivityType(e);
    if (!activity_type.empty()) w.Field("activity_type", activity_type);
  }
  if (!e.child_workflow_id.empty()) w.Field("child_workflow_id", e.child_workflow_id);
  for (const auto& field : reader.Decode(e)) w.FieldRaw(field.name, field.json);
  w.EndObject();
}

}  // namespace

Result<std::string> DurableBatchService::HistoryJson(const std::string& user_id,
                                                    const std::string& workflow_id,
                                                    int64_t after, int64_t limit) {
  ASSIGN_OR_RETURN(engine::ExecutionRecord record,
                   internal::OwnedExecution(*rep_->engine, user_id, workflow_id));
  ASSIGN_OR_RETURN(auto events, rep_->engine->ReadHistory(workflow_id, after, limit));
  const engine::Engine* engine = rep_->engine;
  engine::HistoryPayloadReader reader(
      rep_->payload_formats, record.workflow_type,
      [engine, &workflow_id](int64_t event_id) -> std::optional<engine::HistoryEvent> {
        auto one = engine->ReadHistory(workflow_id, event_id - 1, 1);
        if (!one.ok() || one->empty()) return std::nullopt;
        return one->front();
      });
  JsonWriter w;
  w.BeginObject().Field("workflow_id", workflow_id).Field("workflow_type", record.workflow_type);
  w.Field("status", engine::ExecutionStatusName(record.status));
  w.Field("history_length", record.next_event_id - 1);
  w.Key("events").BeginArray();
  for (const auto& e : events) WriteEvent(w, e, reader);
  w.EndArray().Key("next_after");
  bool more = !events.empty() && limit > 0 && static_cast<int64_t>(events.size()) == limit &&
              events.back().event_id < record.next_event_id - 1;
  if (more) {
    w.Int(events.back().event_id);
  } else {
    w.Null();
  }
  w.EndObject();
  return w.Take();
}

}  // namespace papr::workflows
