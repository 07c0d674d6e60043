#include "common/clock.h"

#include <gtest/gtest.h>

namespace papr {
namespace {

TEST(ClockTest, FormatRfc3339IsUtcWithMilliseconds) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(1614265330123), "2021-02-25T15:02:10.123Z");
  EXPECT_EQ(FormatRfc3339(-1), "1969-12-31T23:59:59.999Z");
}

TEST(ClockTest, SystemClockIsNearNow) {
  int64_t now = SystemClock::Default()->NowMillis();
  EXPECT_GT(now, 1'600'000'000'000);  // after 2020
  EXPECT_EQ(SystemClock::Default(), SystemClock::Default());
}

}  // namespace
}  // namespace papr
