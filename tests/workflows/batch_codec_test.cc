// The batch header's compatibility: version 3 records the memory retry policy and attempt
// timeout; a version 2 header (written by the previous build) decodes with the defaults
// batches ran with then and re-encodes byte for byte as version 2 (chunk children of an old
// batch get the header its replay compares against).
#include "workflows/batch_codec.h"

#include <gtest/gtest.h>

namespace papr::workflows {
namespace {

BatchHeader Sample() {
  BatchHeader h;
  h.user_id = "alice";
  h.total = 12;
  h.max_concurrency = 3;
  h.webhook_url = "https://example.com/hook";
  h.idempotency_key = "k";
  h.lo = 0;
  h.hi = 12;
  h.webhook_schedule_seconds = {0, 5};
  return h;
}

TEST(BatchCodecTest, Version3RecordsTheRetryPolicyAndAttemptTimeout) {
  BatchHeader h = Sample();
  h.retry.initial_interval_ms = 50;
  h.retry.backoff_coefficient = 1.5;
  h.retry.maximum_interval_ms = 900;
  h.retry.maximum_attempts = 2;
  h.retry.non_retryable_error_types = {"422", "404"};
  h.attempt_timeout_ms = 45000;
  std::string bytes = EncodeBatchHeader(h);
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]), 3);
  auto d = DecodeBatchHeader(bytes);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->retry.initial_interval_ms, 50);
  EXPECT_EQ(d->retry.backoff_coefficient, 1.5);
  EXPECT_EQ(d->retry.maximum_interval_ms, 900);
  EXPECT_EQ(d->retry.maximum_attempts, 2);
  EXPECT_EQ(d->retry.non_retryable_error_types, (std::vector<std::string>{"422", "404"}));
  EXPECT_EQ(d->attempt_timeout_ms, 45000);
  EXPECT_EQ(EncodeBatchHeader(*d), bytes);
  // Truncated inside the retry policy: corruption, not a silently shorter policy.
  auto cut = DecodeBatchHeader(std::string_view(bytes).substr(0, bytes.size() - 2));
  EXPECT_EQ(cut.status().code(), StatusCode::kCorruption);
}

TEST(BatchCodecTest, Version2HeaderDecodesWithTheOldDefaultsAndReencodesAsVersion2) {
  BatchHeader h = Sample();
  h.format_version = 2;
  h.retry.maximum_attempts = 9;  // not representable in version 2: dropped
  std::string v2 = EncodeBatchHeader(h);
  EXPECT_EQ(static_cast<uint8_t>(v2[0]), 2);
  auto d = DecodeBatchHeader(v2);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->format_version, 2);
  EXPECT_EQ(d->user_id, "alice");
  EXPECT_EQ(d->webhook_schedule_seconds, (std::vector<int64_t>{0, 5}));
  MemoryRetryPolicy old_defaults;  // what the code had fixed: 5 attempts, 200 ms, x2, 10 s cap
  EXPECT_EQ(d->retry.maximum_attempts, 5);
  EXPECT_EQ(d->retry.initial_interval_ms, 200);
  EXPECT_EQ(d->retry.backoff_coefficient, 2.0);
  EXPECT_EQ(d->retry.maximum_interval_ms, 10000);
  EXPECT_EQ(d->retry.non_retryable_error_types, old_defaults.non_retryable_error_types);
  EXPECT_EQ(d->attempt_timeout_ms, 30000);
  EXPECT_EQ(EncodeBatchHeader(*d), v2);
  for (char version : {'\x01', '\x04'}) {
    std::string other = v2;
    other[0] = version;
    EXPECT_EQ(DecodeBatchHeader(other).status().code(), StatusCode::kCorruption);
  }
}

TEST(BatchCodecTest, RequestOverridesOnlyTheFieldsItGives) {
  config::ProcessingRetry configured;
  configured.maximum_attempts = 4;
  configured.initial_interval_ms = 100;
  RetryPolicyOverrides request;
  request.maximum_attempts = 2;
  request.non_retryable_error_types = std::vector<std::string>{};
  MemoryRetryPolicy p = ResolveRetryPolicy(configured, request);
  EXPECT_EQ(p.maximum_attempts, 2);
  EXPECT_EQ(p.initial_interval_ms, 100);
  EXPECT_EQ(p.backoff_coefficient, configured.backoff_coefficient);
  EXPECT_EQ(p.maximum_interval_ms, configured.maximum_interval_ms);
  EXPECT_TRUE(p.non_retryable_error_types.empty());
}

}  // namespace
}  // namespace papr::workflows
