// Routes of usage and operations: usage, the cluster's view, workflow history and actions.

#include "api/internal/router_rep.h"
#include "api/internal/route_helpers.h"
#include "api/response_json.h"
#include "common/log.h"
#include "config/plans.h"

namespace papr::api {

HttpResponse Router::Rep::GetUsage(const std::string& user) {
  auto usage = deps.usage->Get(user);
  if (!usage.ok()) return StatusError(usage.status());
  const auto& c = *deps.config;
  DecodeLimits limits = Limits(user);
  const auto& u = *usage;
  bool over = u.batches_rejected_for_size > 0 || u.max_batch_size_attempted > limits.max_batch_size;
  JsonWriter w;
  w.BeginObject().Field("user_id", user).Field("edition", c.edition);
  w.Field("durable_batches", c.features.has_temporal);
  const config::Plan plan = config::PlanOf(c, user);
  w.Key("limits").BeginObject().Field("max_batch_size", limits.max_batch_size);
  w.Field("max_concurrent_tasks", c.features.max_concurrent_tasks);
  w.Field("plan", plan.name).FieldOrNull("next_plan", limits.next_plan);
  w.Field("max_open_batches", plan.max_open_batches);
  w.Field("max_queued_memories", plan.max_queued_memories);
  w.Field("max_document_bytes", plan.max_document_bytes);
  w.Field("webhook_attempts", static_cast<int64_t>(plan.webhook_retry_schedule_seconds.size()));
  w.EndObject();
  w.Key("usage").BeginObject().Field("batches_attempted", u.batches_attempted);
  w.Field("batches_accepted", u.batches_accepted);
  w.Field("batches_rejected_for_size", u.batches_rejected_for_size);
  w.Field("max_batch_size_attempted", u.max_batch_size_attempted);
  w.Key("average_batch_size")
      .Double(u.batches_attempted == 0 ? 0.0
                                       : static_cast<double>(u.memories_attempted) /
                                             static_cast<double>(u.batches_attempted));
  w.EndObject();
  w.Field("exceeds_limits", over);
  w.FieldOrNull("recommendation", over ? limits.upgrade_info : "");
  w.Field("upgrade_url", c.messaging.upgrade_url);
  w.Key("cloud_benefits").BeginArray();
  for (const auto& b : c.messaging.cloud_benefits) w.String(b);
  w.EndArray().EndObject();
  return HttpResponse::Json(200, w.Take());
}

// The cluster's nodes and shards (no user's data: ids, addresses, leases, counts).
HttpResponse Router::Rep::ClusterView() {
  if (!deps.cluster_view) {
    return SimpleError(404, "this server does not run as a cluster (cluster.enabled)");
  }
  auto json = deps.cluster_view();
  if (!json.ok()) return StatusError(json.status());
  return HttpResponse::Json(200, std::move(json).value());
}

// Read-only: a page of one of the user's workflow histories (the console's timeline).
HttpResponse Router::Rep::WorkflowHistory(const HttpRequest& req, const std::string& user,
                                          const std::string& id) {
  int64_t after = 0, limit = 200;
  HttpResponse bad;
  if (!IntParam(req, "after", 0, INT64_MAX - 1, 0, &after, &bad)) return bad;
  if (!IntParam(req, "limit", 1, 1000, 200, &limit, &bad)) return bad;
  auto json = deps.batches->HistoryJson(user, id, after, limit);
  if (!json.ok()) return StatusError(json.status());
  return HttpResponse::Json(200, std::move(json).value());
}

// Operator actions on one of the user's workflows: 200 {"workflow_id","action","status",
// "cancel_requested","workflow_type"} with the execution's state once the request is
// recorded; retry answers 202 like a batch submit.
HttpResponse Router::Rep::AdminAction(const HttpRequest& req, const std::string& user,
                                      const std::string& id, const std::string& action) {
  if (action == "retry") return AdminRetry(user, id);
  AdminActionRequest body;
  ApiError error;
  if (!DecodeAdminAction(req.body, action, &body, &error)) return ErrorResponse(error);
  Status s;
  if (action == "terminate") {
    s = deps.batches->AdminTerminate(user, id, *body.reason);
  } else if (action == "cancel") {
    std::string reason = body.reason.value_or("cancelled through the admin API");
    s = deps.batches->AdminCancel(user, id, reason);
  } else {
    s = deps.batches->AdminSignal(user, id, body.name, body.input_json);
  }
  if (!s.ok()) return StatusError(s);
  log::Info("admin action", {{"workflow_id", id}, {"action", action}, {"user", user}});
  auto state = deps.batches->AdminDescribe(user, id);
  if (!state.ok()) return StatusError(state.status());
  JsonWriter w;
  w.BeginObject().Field("workflow_id", id).Field("action", action);
  w.Field("status", state->status).Field("cancel_requested", state->cancel_requested);
  w.Field("workflow_type", state->workflow_type).EndObject();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse Router::Rep::AdminRetry(const std::string& user, const std::string& id) {
  auto outcome = deps.batches->AdminRetry(user, id);
  if (!outcome.ok()) return StatusError(outcome.status());
  log::Info("admin action", {{"workflow_id", id}, {"action", "retry"}, {"user", user},
                             {"batch_id", outcome->batch_id}});
  auto status = deps.batches->GetStatus(user, outcome->batch_id);
  std::string webhook_url = status.ok() ? status->webhook.url : "";
  int64_t memories = status.ok() ? status->total : 0;
  return Accepted(user, *outcome, webhook_url, [&](JsonWriter& w) {
    w.Field("retry_of", id).Field("memories", memories);
  });
}

}  // namespace papr::api
