#include "engine/retry_policy.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/byte_codec.h"

namespace papr::engine {

int64_t RetryDelayMs(const RetryPolicy& policy, int64_t next_attempt) {
  int64_t max_interval =
      policy.maximum_interval_ms > 0 ? policy.maximum_interval_ms : 100 * policy.initial_interval_ms;
  double delay = static_cast<double>(policy.initial_interval_ms) *
                 std::pow(policy.backoff_coefficient, static_cast<double>(next_attempt - 2));
  if (!std::isfinite(delay) || delay > static_cast<double>(max_interval)) return max_interval;
  return std::max<int64_t>(0, static_cast<int64_t>(delay));
}

bool ShouldRetry(const RetryPolicy& policy, int64_t attempt, std::string_view error_type) {
  if (policy.maximum_attempts > 0 && attempt >= policy.maximum_attempts) return false;
  const auto& types = policy.non_retryable_error_types;
  return std::find(types.begin(), types.end(), error_type) == types.end();
}

std::string EncodeActivityOptions(const ActivityOptions& o) {
  std::string out;
  PutSignedVarint64(&out, o.retry.initial_interval_ms);
  uint64_t coefficient_bits;
  std::memcpy(&coefficient_bits, &o.retry.backoff_coefficient, sizeof(double));
  PutFixed64BE(&out, coefficient_bits);
  PutSignedVarint64(&out, o.retry.maximum_interval_ms);
  PutSignedVarint64(&out, o.retry.maximum_attempts);
  PutVarint64(&out, o.retry.non_retryable_error_types.size());
  for (const auto& t : o.retry.non_retryable_error_types) PutLengthPrefixed(&out, t);
  PutSignedVarint64(&out, o.start_to_close_timeout_ms);
  PutSignedVarint64(&out, o.schedule_to_close_timeout_ms);
  // Later fields are appended only when set, so options recorded before them read the same.
  if (o.heartbeat_timeout_ms != 0) PutSignedVarint64(&out, o.heartbeat_timeout_ms);
  return out;
}

Result<ActivityOptions> DecodeActivityOptions(std::string_view in) {
  ActivityOptions o;
  uint64_t coefficient_bits = 0, n = 0;
  bool ok = GetSignedVarint64(&in, &o.retry.initial_interval_ms) &&
            GetFixed64BE(&in, &coefficient_bits) &&
            GetSignedVarint64(&in, &o.retry.maximum_interval_ms) &&
            GetSignedVarint64(&in, &o.retry.maximum_attempts) && GetVarint64(&in, &n) &&
            n <= in.size();
  for (uint64_t i = 0; ok && i < n; ++i) {
    std::string t;
    ok = GetLengthPrefixed(&in, &t);
    o.retry.non_retryable_error_types.push_back(std::move(t));
  }
  ok = ok && GetSignedVarint64(&in, &o.start_to_close_timeout_ms) &&
       GetSignedVarint64(&in, &o.schedule_to_close_timeout_ms);
  if (ok && !in.empty()) ok = GetSignedVarint64(&in, &o.heartbeat_timeout_ms);
  if (!ok) return Status::Corruption("activity options truncated");
  std::memcpy(&o.retry.backoff_coefficient, &coefficient_bits, sizeof(double));
  return o;
}

}  // namespace papr::engine
