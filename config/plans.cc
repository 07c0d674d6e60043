#include "config/plans.h"

#include <map>
#include <set>

namespace papr::config {
namespace {

const Plan* FindPlan(const Config& c, std::string_view name) {
  for (const Plan& p : c.plans) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

// The server's own batch limit (an open-source config that turns the engine on gets the
// engine's).
int64_t ServerBatchLimit(const Config& c) {
  if (c.edition == "opensource" && c.features.has_temporal) {
    return c.features.max_batch_size_with_temporal;
  }
  return c.features.max_batch_size;
}

Plan Filled(const Config& c, Plan p) {
  if (p.max_batch_size == 0) p.max_batch_size = ServerBatchLimit(c);
  if (p.max_open_batches == 0) p.max_open_batches = c.limits.max_open_batches_per_user;
  if (p.max_queued_memories == 0) p.max_queued_memories = c.limits.max_queued_memories_per_user;
  if (p.max_document_bytes == 0) p.max_document_bytes = c.features.max_document_bytes;
  if (p.webhook_retry_schedule_seconds.empty()) {
    p.webhook_retry_schedule_seconds = c.webhooks.retry_schedule_seconds;
  }
  return p;
}

}  // namespace

Plan PlanOf(const Config& config, std::string_view user_id) {
  std::string_view name = config.auth.default_plan;
  for (const ApiKey& key : config.auth.api_keys) {
    if (key.user_id == user_id && !key.plan.empty()) {
      name = key.plan;
      break;
    }
  }
  const Plan* plan = name.empty() ? nullptr : FindPlan(config, name);
  if (plan == nullptr) {
    Plan server;
    server.name = config.edition;
    return Filled(config, server);
  }
  return Filled(config, *plan);
}

std::optional<Plan> NextPlan(const Config& config, const Plan& plan) {
  std::optional<Plan> next;
  for (const Plan& p : config.plans) {
    Plan filled = Filled(config, p);
    if (filled.max_batch_size <= plan.max_batch_size) continue;
    if (!next || filled.max_batch_size < next->max_batch_size) next = std::move(filled);
  }
  return next;
}

std::vector<std::string> PlanProblems(const Config& config) {
  std::vector<std::string> problems;
  std::set<std::string_view> names;
  for (size_t i = 0; i < config.plans.size(); ++i) {
    if (!names.insert(config.plans[i].name).second) {
      problems.push_back("plans[" + std::to_string(i) + "].name '" + config.plans[i].name +
                         "' is a duplicate");
    }
  }
  if (!config.auth.default_plan.empty() && !names.contains(config.auth.default_plan)) {
    problems.push_back("auth.default_plan names no plan: '" + config.auth.default_plan + "'");
  }
  std::map<std::string_view, std::string_view> plan_of_user;
  for (size_t i = 0; i < config.auth.api_keys.size(); ++i) {
    const ApiKey& key = config.auth.api_keys[i];
    const std::string path = "auth.api_keys[" + std::to_string(i) + "].plan";
    if (!key.plan.empty() && !names.contains(key.plan)) {
      problems.push_back(path + " names no plan: '" + key.plan + "'");
    }
    const std::string_view plan = key.plan.empty() ? config.auth.default_plan : key.plan;
    auto [it, first] = plan_of_user.emplace(key.user_id, plan);
    if (!first && it->second != plan) {
      problems.push_back(path + ": the keys of user_id '" + key.user_id +
                         "' must share one plan");
    }
  }
  return problems;
}

}  // namespace papr::config
