// WorkQueue: the runner and activity worker pools.
#include "engine/internal/work_queue.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

namespace papr::engine::internal {
namespace {

// Jobs pushed together (one transition's dispatches) each run once, spread over the threads,
// also when there are more jobs than threads.
TEST(WorkQueueTest, PushAllRunsEveryJobOnce) {
  WorkQueue<int> queue;
  std::mutex mu;
  std::multiset<int> ran;
  std::atomic<int> done{0};
  queue.Start(4, [&](int& job) {
    {
      std::lock_guard lock(mu);
      ran.insert(job);
    }
    done++;
  });
  std::vector<int> jobs;
  for (int i = 0; i < 100; ++i) jobs.push_back(i);
  queue.PushAll(jobs);
  queue.PushAll({});  // nothing to do, nobody woken
  queue.PushAll({100});
  for (int waited = 0; done.load() < 101 && waited < 10000; waited += 10) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  queue.Stop();
  ASSERT_EQ(done.load(), 101);
  for (int i = 0; i <= 100; ++i) EXPECT_EQ(ran.count(i), 1u) << i;
}

}  // namespace
}  // namespace papr::engine::internal
