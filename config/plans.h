#pragma once

// Plans (pricing tiers) per API key: a cloud server serves customers on different plans at
// once, so a batch's limit is the caller's plan's (`plans:`, `auth.api_keys[].plan`,
// `auth.default_plan`), not only the config file's.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace papr::config {

// The plan of `user_id` (its keys' plan, or auth.default_plan) with every limit it leaves
// unset filled from the server's keys. Without a plan (no table, or neither names one): the
// server's limits, named after the edition ("opensource", "cloud").
Plan PlanOf(const Config& config, std::string_view user_id);

// The plan to upgrade to from `plan`: the plan with the smallest max_batch_size above its
// (PlanOf's values); nullopt when none allows more.
std::optional<Plan> NextPlan(const Config& config, const Plan& plan);

// Problems of the plans table and the keys' references to it, one a line, for Validate.
std::vector<std::string> PlanProblems(const Config& config);

}  // namespace papr::config
