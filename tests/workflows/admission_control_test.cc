#include "workflows/admission_control.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace papr::workflows {
namespace {

//! Batches' remaining memories as the engine would answer them (absent: settled).
struct FakeBatches {
  std::map<std::string, int64_t> remaining;
  int64_t reads = 0;
  AdmissionControl::RemainingFn Fn() {
    return [this](const std::string& id) {
      ++reads;
      auto it = remaining.find(id);
      return it == remaining.end() ? int64_t{0} : it->second;
    };
  }
};

AdmissionControl::Limits Small() {
  AdmissionControl::Limits l;
  l.max_open_batches_per_user = 2;
  l.max_open_batches = 3;
  l.max_queued_memories_per_user = 100;
  l.max_queued_memories = 150;
  return l;
}

Status AdmitOpen(AdmissionControl& ac, FakeBatches& fake, const std::string& user,
                 const std::string& id, int64_t memories) {
  bool reserved = false;
  Status s = ac.Admit(user, id, memories, &reserved);
  if (s.ok() && reserved) fake.remaining[id] = memories;
  return s;
}

TEST(AdmissionControlTest, EachUsersOwnLimitsApplyToItAloneNamedAsItsPlanNamesThem) {
  FakeBatches fake;
  AdmissionControl::Limits global;  // no per-user limit of the server's own
  global.max_open_batches = 100;
  AdmissionControl ac(global, fake.Fn(), [](const std::string& user) {
    AdmissionControl::UserLimits l;
    l.max_open_batches = user == "starter-user" ? 1 : 3;
    l.max_queued_memories = user == "starter-user" ? 10 : 0;
    l.open_batches_key = "plan " + std::string(user == "starter-user" ? "starter" : "business") +
                         " max_open_batches";
    l.queued_memories_key = "plan starter max_queued_memories";
    return l;
  });
  Status big = AdmitOpen(ac, fake, "starter-user", "c", 11);
  EXPECT_EQ(big.code(), StatusCode::kPayloadTooLarge);
  EXPECT_NE(big.message().find("plan starter max_queued_memories (10)"), std::string::npos);
  ASSERT_TRUE(AdmitOpen(ac, fake, "starter-user", "a", 5).ok());
  Status s = AdmitOpen(ac, fake, "starter-user", "b", 1);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("plan starter max_open_batches (1)"), std::string::npos) << s.message();
  for (const char* id : {"d", "e", "f"}) EXPECT_TRUE(AdmitOpen(ac, fake, "big-user", id, 50).ok());
  Status fourth = AdmitOpen(ac, fake, "big-user", "g", 1);
  EXPECT_NE(fourth.message().find("plan business max_open_batches (3)"), std::string::npos);
}

TEST(AdmissionControlTest, RefusesTheBatchPastTheUserLimitNamingIt) {
  FakeBatches fake;
  AdmissionControl ac(Small(), fake.Fn());
  ASSERT_TRUE(AdmitOpen(ac, fake, "u", "a", 1).ok());
  ASSERT_TRUE(AdmitOpen(ac, fake, "u", "b", 1).ok());
  Status s = AdmitOpen(ac, fake, "u", "c", 1);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("limits.max_open_batches_per_user (2)"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("2 batches of this user are open"), std::string::npos);
  EXPECT_EQ(ac.UserUsage("u").batches, 2);
  // Another user is admitted, up to the global limit.
  EXPECT_TRUE(AdmitOpen(ac, fake, "v", "d", 1).ok());
  s = AdmitOpen(ac, fake, "w", "e", 1);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("limits.max_open_batches (3)"), std::string::npos) << s.message();
}

TEST(AdmissionControlTest, RefusesQueuedMemoriesPastTheLimits) {
  FakeBatches fake;
  AdmissionControl ac(Small(), fake.Fn());
  ASSERT_TRUE(AdmitOpen(ac, fake, "u", "a", 60).ok());
  Status s = AdmitOpen(ac, fake, "u", "b", 41);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("limits.max_queued_memories_per_user (100)"), std::string::npos)
      << s.message();
  ASSERT_TRUE(AdmitOpen(ac, fake, "v", "c", 80).ok());
  s = AdmitOpen(ac, fake, "w", "d", 11);
  EXPECT_NE(s.message().find("limits.max_queued_memories (150)"), std::string::npos)
      << s.message();
}

TEST(AdmissionControlTest, ABatchLargerThanAMemoryLimitIsTooLargeNotRetried) {
  FakeBatches fake;
  AdmissionControl ac(Small(), fake.Fn());
  Status s = AdmitOpen(ac, fake, "u", "a", 101);
  EXPECT_EQ(s.code(), StatusCode::kPayloadTooLarge);
  EXPECT_NE(s.message().find("limits.max_queued_memories_per_user (100)"), std::string::npos)
      << s.message();
  EXPECT_EQ(ac.GlobalUsage().batches, 0);
}

TEST(AdmissionControlTest, SettledBatchesLeaveTheCountsWhenALimitIsReached) {
  FakeBatches fake;
  AdmissionControl ac(Small(), fake.Fn());
  ASSERT_TRUE(AdmitOpen(ac, fake, "u", "a", 50).ok());
  ASSERT_TRUE(AdmitOpen(ac, fake, "u", "b", 50).ok());
  EXPECT_EQ(fake.reads, 0);  // no re-read below the limits
  fake.remaining.erase("a");  // settled
  fake.remaining["b"] = 10;   // 40 of its memories processed
  ASSERT_TRUE(AdmitOpen(ac, fake, "u", "c", 90).ok());
  EXPECT_EQ(fake.reads, 2);
  EXPECT_EQ(ac.UserUsage("u").batches, 2);
  EXPECT_EQ(ac.UserUsage("u").memories, 100);
  EXPECT_EQ(ac.GlobalUsage().memories, 100);
}

TEST(AdmissionControlTest, ACountedBatchIsAdmittedAgainWithoutASecondCharge) {
  FakeBatches fake;
  AdmissionControl ac(Small(), fake.Fn());
  ASSERT_TRUE(AdmitOpen(ac, fake, "u", "a", 1).ok());
  ASSERT_TRUE(AdmitOpen(ac, fake, "u", "b", 1).ok());
  bool reserved = true;
  EXPECT_TRUE(ac.Admit("u", "a", 1, &reserved).ok());  // same id, at the limit
  EXPECT_FALSE(reserved);
  EXPECT_EQ(ac.UserUsage("u").batches, 2);
}

TEST(AdmissionControlTest, ReleaseAndRestoreAdjustTheCounts) {
  FakeBatches fake;
  AdmissionControl ac(Small(), fake.Fn());
  ac.Restore("u", "a", 30);
  ac.Restore("u", "b", 30);
  ac.Restore("u", "b", 30);  // once only
  fake.remaining = {{"a", 30}, {"b", 30}};
  EXPECT_EQ(ac.UserUsage("u").batches, 2);
  EXPECT_EQ(AdmitOpen(ac, fake, "u", "c", 1).code(), StatusCode::kResourceExhausted);
  ac.Release("a");
  ac.Release("a");  // no-op
  EXPECT_TRUE(AdmitOpen(ac, fake, "u", "c", 1).ok());
  EXPECT_EQ(ac.GlobalUsage().batches, 2);
  EXPECT_EQ(ac.GlobalUsage().memories, 31);
}

TEST(AdmissionControlTest, ZeroMeansNoLimit) {
  FakeBatches fake;
  AdmissionControl ac(AdmissionControl::Limits{}, fake.Fn());
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(AdmitOpen(ac, fake, "u", std::to_string(i), 1000000).ok());
  }
  EXPECT_EQ(fake.reads, 0);
}

// Without limits nothing refuses, so settled batches are dropped by a sweep every so often:
// the counts stay bounded.
TEST(AdmissionControlTest, SettledBatchesAreSweptWithoutLimitsToo) {
  FakeBatches fake;
  AdmissionControl ac(AdmissionControl::Limits{}, fake.Fn());
  for (int i = 0; i < 30000; ++i) {
    std::string id = std::to_string(i);
    ASSERT_TRUE(AdmitOpen(ac, fake, "u", id, 1).ok());
    fake.remaining.erase(id);  // settles at once
  }
  EXPECT_LT(ac.GlobalUsage().batches, 10000);
  EXPECT_LT(fake.reads, 3 * 30000);
}

}  // namespace
}  // namespace papr::workflows

namespace papr::workflows {
namespace {

// Refused admissions arriving while a re-read is under way wait for it (and the re-read that
// follows) instead of each re-reading every counted batch at once.
TEST(AdmissionControlTest, ARefusalWaitsForTheReReadUnderWayInsteadOfStartingItsOwn) {
  std::mutex mu;
  std::condition_variable changed;
  int reads = 0;
  bool gate_open = false;
  AdmissionControl::Limits limits;
  limits.max_open_batches_per_user = 1;
  AdmissionControl ac(limits, [&](const std::string&) {
    std::unique_lock<std::mutex> lock(mu);
    ++reads;
    changed.notify_all();
    changed.wait(lock, [&] { return gate_open; });  // the first re-read holds here
    return int64_t{1};                              // still open
  });
  bool reserved = false;
  ASSERT_TRUE(ac.Admit("u", "a", 1, &reserved).ok());
  Status first, second;
  bool reserved1 = false, reserved2 = false;
  std::thread t1([&] { first = ac.Admit("u", "b", 1, &reserved1); });
  {
    std::unique_lock<std::mutex> lock(mu);
    changed.wait(lock, [&] { return reads == 1; });  // t1 is re-reading "a"
  }
  std::thread t2([&] { second = ac.Admit("u", "c", 1, &reserved2); });
  {
    // t2 either waits for t1's re-read or starts its own (a second read of "a").
    std::unique_lock<std::mutex> lock(mu);
    while (reads < 2 && ac.RefreshWaiters() == 0) {
      changed.wait_for(lock, std::chrono::milliseconds(1));
    }
    EXPECT_EQ(reads, 1);
    EXPECT_EQ(ac.RefreshWaiters(), 1);
    gate_open = true;
    changed.notify_all();
  }
  t1.join();
  t2.join();
  EXPECT_EQ(first.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(second.code(), StatusCode::kResourceExhausted);
  EXPECT_LE(reads, 2);  // t1's re-read, and one that started after t2 was refused
}

}  // namespace
}  // namespace papr::workflows
