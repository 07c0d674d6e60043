#include "cluster/shard_drainers.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

namespace papr::cluster {
namespace {

using std::chrono::milliseconds;

// Records drains; a drain of `hold` blocks until released.
struct Recorder {
  std::mutex mu;
  std::condition_variable changed;
  std::map<uint32_t, int> drains;
  int running = 0, most_running = 0;
  std::map<uint32_t, int> running_of;
  bool overlap_in_a_shard = false;
  uint32_t hold = 1000;
  bool released = false;

  void Drain(uint32_t shard) {
    std::unique_lock lock(mu);
    running++;
    most_running = std::max(most_running, running);
    if (++running_of[shard] > 1) overlap_in_a_shard = true;
    changed.notify_all();
    changed.wait(lock, [&] { return shard != hold || released; });
    running--;
    running_of[shard]--;
    drains[shard]++;
    changed.notify_all();
  }
  bool WaitUntil(const std::function<bool()>& done) {
    std::unique_lock lock(mu);
    return changed.wait_for(lock, std::chrono::seconds(10), done);
  }
};

TEST(ShardDrainersTest, AShardNotifiedWhileItDrainsIsDrainedOnceMoreAfterAndNeverTwiceAtOnce) {
  Recorder rec;
  rec.hold = 5;
  ShardDrainers drainers(4, [&](uint32_t s) { rec.Drain(s); });
  drainers.Enqueue(5);
  ASSERT_TRUE(rec.WaitUntil([&] { return rec.running_of[5] == 1; }));
  drainers.Enqueue(5);  // while it drains: once more after, however often it is notified
  drainers.Enqueue(5);
  {
    std::lock_guard lock(rec.mu);
    rec.released = true;
  }
  rec.changed.notify_all();
  ASSERT_TRUE(rec.WaitUntil([&] { return rec.drains[5] == 2 && rec.running == 0; }));
  std::this_thread::sleep_for(milliseconds(100));
  std::lock_guard lock(rec.mu);
  EXPECT_EQ(rec.drains[5], 2);
  EXPECT_FALSE(rec.overlap_in_a_shard);
}

TEST(ShardDrainersTest, ShardsDrainSideBySideSoASlowOneHoldsUpNoOther) {
  Recorder rec;
  rec.hold = 1;  // shard 1 blocks until released
  ShardDrainers drainers(2, [&](uint32_t s) { rec.Drain(s); });
  drainers.Enqueue(1);
  ASSERT_TRUE(rec.WaitUntil([&] { return rec.running_of[1] == 1; }));
  for (uint32_t s = 2; s < 6; ++s) drainers.Enqueue(s);
  EXPECT_TRUE(rec.WaitUntil([&] {
    return rec.drains[2] == 1 && rec.drains[3] == 1 && rec.drains[4] == 1 && rec.drains[5] == 1;
  }));
  {
    std::lock_guard lock(rec.mu);
    EXPECT_EQ(rec.drains[1], 0);
    rec.released = true;
  }
  rec.changed.notify_all();
  EXPECT_TRUE(rec.WaitUntil([&] { return rec.drains[1] == 1; }));
}

TEST(ShardDrainersTest, StopLetsTheRunningDrainFinishAndDropsTheQueued) {
  Recorder rec;
  rec.hold = 1;
  auto drainers = std::make_unique<ShardDrainers>(1, [&](uint32_t s) { rec.Drain(s); });
  drainers->Enqueue(1);
  ASSERT_TRUE(rec.WaitUntil([&] { return rec.running_of[1] == 1; }));
  drainers->Enqueue(2);  // queued behind the only thread
  std::thread stopper([&] { drainers->Stop(); });
  std::this_thread::sleep_for(milliseconds(50));
  {
    std::lock_guard lock(rec.mu);
    rec.released = true;
  }
  rec.changed.notify_all();
  stopper.join();
  drainers->Enqueue(3);  // after Stop: ignored
  std::lock_guard lock(rec.mu);
  EXPECT_EQ(rec.drains[1], 1);
  EXPECT_EQ(rec.drains.count(2), 0u);
  EXPECT_EQ(rec.drains.count(3), 0u);
}

}  // namespace
}  // namespace papr::cluster
