#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace papr::engine {

//! Temporal's retry policy, with Temporal's defaults.
struct RetryPolicy {
  int64_t initial_interval_ms = 1000;  // Delay before the second attempt.
  double backoff_coefficient = 2.0;    // Each later delay is this times the previous.
  int64_t maximum_interval_ms = 0;     // Cap on one delay; 0 means 100 x initial.
  int64_t maximum_attempts = 0;        // 0 means unlimited.
  std::vector<std::string> non_retryable_error_types;
};

//! How an activity runs: its retry policy and timeouts (0 = none).
struct ActivityOptions {
  RetryPolicy retry;
  // One attempt longer than this counts as a failed attempt (its late result is dropped).
  int64_t start_to_close_timeout_ms = 0;
  // From scheduling to the final outcome, across all attempts and backoffs.
  int64_t schedule_to_close_timeout_ms = 0;
  // An attempt that records no heartbeat for this long fails as timed out (and is retried per
  // the policy); 0: attempts need not heartbeat.
  int64_t heartbeat_timeout_ms = 0;
};

// Delay before attempt `next_attempt` (>= 2).
int64_t RetryDelayMs(const RetryPolicy& policy, int64_t next_attempt);
// Whether a failure of `attempt` with `error_type` gets another attempt.
bool ShouldRetry(const RetryPolicy& policy, int64_t attempt, std::string_view error_type);

std::string EncodeActivityOptions(const ActivityOptions& options);
Result<ActivityOptions> DecodeActivityOptions(std::string_view bytes);

}  // namespace papr::engine
