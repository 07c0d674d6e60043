#include "engine/retry_policy.h"

#include <gtest/gtest.h>

namespace papr::engine {
namespace {

TEST(RetryPolicyTest, DefaultsAreTemporals) {
  RetryPolicy p;
  EXPECT_EQ(p.initial_interval_ms, 1000);
  EXPECT_DOUBLE_EQ(p.backoff_coefficient, 2.0);
  EXPECT_EQ(p.maximum_interval_ms, 0);
  EXPECT_EQ(p.maximum_attempts, 0);
  EXPECT_TRUE(p.non_retryable_error_types.empty());
}

TEST(RetryPolicyTest, DefaultDelaysDoubleAndCapAtHundredTimesInitial) {
  RetryPolicy p;
  EXPECT_EQ(RetryDelayMs(p, 2), 1000);
  EXPECT_EQ(RetryDelayMs(p, 3), 2000);
  EXPECT_EQ(RetryDelayMs(p, 4), 4000);
  EXPECT_EQ(RetryDelayMs(p, 5), 8000);
  EXPECT_EQ(RetryDelayMs(p, 6), 16000);
  EXPECT_EQ(RetryDelayMs(p, 7), 32000);
  EXPECT_EQ(RetryDelayMs(p, 8), 64000);
  EXPECT_EQ(RetryDelayMs(p, 9), 100000);  // 128000 capped
  EXPECT_EQ(RetryDelayMs(p, 10), 100000);
  EXPECT_EQ(RetryDelayMs(p, 100), 100000);
  EXPECT_EQ(RetryDelayMs(p, 5000), 100000);  // pow overflows to inf: still the cap
}

TEST(RetryPolicyTest, CustomIntervalsAndCoefficient) {
  RetryPolicy p;
  p.initial_interval_ms = 20;
  p.maximum_interval_ms = 50;
  EXPECT_EQ(RetryDelayMs(p, 2), 20);
  EXPECT_EQ(RetryDelayMs(p, 3), 40);
  EXPECT_EQ(RetryDelayMs(p, 4), 50);
  EXPECT_EQ(RetryDelayMs(p, 40), 50);

  RetryPolicy q;
  q.initial_interval_ms = 100;
  q.backoff_coefficient = 1.5;
  EXPECT_EQ(RetryDelayMs(q, 2), 100);
  EXPECT_EQ(RetryDelayMs(q, 3), 150);
  EXPECT_EQ(RetryDelayMs(q, 4), 225);
  EXPECT_EQ(RetryDelayMs(q, 100), 10000);  // default cap: 100 x initial

  RetryPolicy constant;
  constant.initial_interval_ms = 30;
  constant.backoff_coefficient = 1.0;
  for (int a = 2; a < 10; ++a) EXPECT_EQ(RetryDelayMs(constant, a), 30);

  RetryPolicy immediate;
  immediate.initial_interval_ms = 0;
  EXPECT_EQ(RetryDelayMs(immediate, 2), 0);
  EXPECT_EQ(RetryDelayMs(immediate, 9), 0);
}

TEST(RetryPolicyTest, ShouldRetryHonoursMaximumAttempts) {
  RetryPolicy p;
  p.maximum_attempts = 3;
  EXPECT_TRUE(ShouldRetry(p, 1, ""));
  EXPECT_TRUE(ShouldRetry(p, 2, "IoError"));
  EXPECT_FALSE(ShouldRetry(p, 3, ""));
  EXPECT_FALSE(ShouldRetry(p, 4, ""));

  RetryPolicy once;
  once.maximum_attempts = 1;
  EXPECT_FALSE(ShouldRetry(once, 1, ""));

  RetryPolicy unlimited;  // 0: unlimited
  EXPECT_TRUE(ShouldRetry(unlimited, 1, ""));
  EXPECT_TRUE(ShouldRetry(unlimited, 1000000, "Anything"));
}

TEST(RetryPolicyTest, NonRetryableErrorTypesStopRetries) {
  RetryPolicy p;
  p.non_retryable_error_types = {"InvalidArgument", "NotFound"};
  EXPECT_FALSE(ShouldRetry(p, 1, "InvalidArgument"));
  EXPECT_FALSE(ShouldRetry(p, 1, "NotFound"));
  EXPECT_TRUE(ShouldRetry(p, 1, "Unavailable"));
  EXPECT_TRUE(ShouldRetry(p, 1, ""));
  EXPECT_TRUE(ShouldRetry(p, 1, "invalidargument"));  // exact match only
  p.maximum_attempts = 2;
  EXPECT_FALSE(ShouldRetry(p, 2, "Unavailable"));
}

TEST(RetryPolicyTest, ActivityOptionsRoundTrip) {
  ActivityOptions o;
  o.retry.initial_interval_ms = 25;
  o.retry.backoff_coefficient = 1.7;
  o.retry.maximum_interval_ms = 12345;
  o.retry.maximum_attempts = 9;
  o.retry.non_retryable_error_types = {"A", "", std::string("b\0c", 3), std::string(300, 'z')};
  o.start_to_close_timeout_ms = 60000;
  o.schedule_to_close_timeout_ms = -5;
  std::string bytes = EncodeActivityOptions(o);
  auto d = DecodeActivityOptions(bytes);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->retry.initial_interval_ms, 25);
  EXPECT_EQ(d->retry.backoff_coefficient, 1.7);  // bit-exact
  EXPECT_EQ(d->retry.maximum_interval_ms, 12345);
  EXPECT_EQ(d->retry.maximum_attempts, 9);
  EXPECT_EQ(d->retry.non_retryable_error_types, o.retry.non_retryable_error_types);
  EXPECT_EQ(d->start_to_close_timeout_ms, 60000);
  EXPECT_EQ(d->schedule_to_close_timeout_ms, -5);
  EXPECT_EQ(EncodeActivityOptions(*d), bytes);

  auto defaults = DecodeActivityOptions(EncodeActivityOptions(ActivityOptions{}));
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->retry.initial_interval_ms, 1000);
  EXPECT_DOUBLE_EQ(defaults->retry.backoff_coefficient, 2.0);
  EXPECT_TRUE(defaults->retry.non_retryable_error_types.empty());
  EXPECT_EQ(defaults->start_to_close_timeout_ms, 0);
}

TEST(RetryPolicyTest, TruncatedActivityOptionsAreCorruption) {
  ActivityOptions o;
  o.retry.non_retryable_error_types = {"InvalidArgument", "X"};
  o.start_to_close_timeout_ms = 1000;
  o.schedule_to_close_timeout_ms = 5000;
  std::string bytes = EncodeActivityOptions(o);
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto d = DecodeActivityOptions(std::string_view(bytes).substr(0, len));
    ASSERT_FALSE(d.ok()) << "prefix " << len;
    EXPECT_EQ(d.status().code(), StatusCode::kCorruption);
  }
  // A huge list count does not allocate or crash.
  std::string huge = bytes.substr(0, 1 + 8 + 1 + 1);
  huge += "\xff\xff\xff\xff\x0f";
  EXPECT_FALSE(DecodeActivityOptions(huge).ok());
}

}  // namespace
}  // namespace papr::engine
