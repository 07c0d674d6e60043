#include "workflows/signal_limits.h"

#include <string>

#include <gtest/gtest.h>

namespace papr::workflows {
namespace {

TEST(SignalLimitsTest, OneSignalsNameAndInputAreCapped) {
  EXPECT_TRUE(CheckSignalSize("n", std::string(kMaxSignalInputBytes, 'x')).ok());
  EXPECT_EQ(CheckSignalSize("n", std::string(kMaxSignalInputBytes + 1, 'x')).code(),
            StatusCode::kPayloadTooLarge);
  EXPECT_EQ(CheckSignalSize(std::string(kMaxSignalNameBytes + 1, 'n'), "{}").code(),
            StatusCode::kPayloadTooLarge);
}

TEST(SignalLimitsTest, AnExecutionsSignalCountAndBytesAreCapped) {
  EXPECT_TRUE(CheckSignalBudget({kMaxSignalsPerExecution - 1, 0}, "n", "{}").ok());
  Status count = CheckSignalBudget({kMaxSignalsPerExecution, 0}, "n", "{}");
  EXPECT_EQ(count.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(count.message().find("10000"), std::string::npos) << count.message();
  EXPECT_TRUE(CheckSignalBudget({1, kMaxSignalBytesPerExecution - 3}, "n", "{}").ok());
  EXPECT_EQ(CheckSignalBudget({1, kMaxSignalBytesPerExecution - 2}, "n", "{}").code(),
            StatusCode::kPayloadTooLarge);
}

}  // namespace
}  // namespace papr::workflows
