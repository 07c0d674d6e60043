// KeyLocks: the holds Db takes on inserted keys across an Insert's check and write.
#include "storage/internal/key_locks.h"

#include <atomic>
#include <chrono>
#include <future>
#include <optional>

#include <gtest/gtest.h>

namespace papr::storage::internal {
namespace {

using namespace std::chrono_literals;

// A batch inserting other keys does not wait for a holder (striped mutexes made it wait
// whenever two keys shared one of 64 stripes: nearly always for batches of ~50 keys).
TEST(KeyLocksTest, DisjointKeysAreHeldTogether) {
  KeyLocks locks;
  std::vector<std::string> many;
  for (int i = 0; i < 200; ++i) many.push_back("held-" + std::to_string(i));
  KeyLocks::Hold first = locks.Acquire(many);
  auto second = std::async(std::launch::async, [&] {
    KeyLocks::Hold hold = locks.Acquire({"other-1", "other-2"});
    return true;
  });
  ASSERT_EQ(second.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(second.get());
}

// A second insert of a held key waits until the holder releases it, then holds it.
TEST(KeyLocksTest, SharedKeyWaitsForTheHolder) {
  KeyLocks locks;
  std::optional<KeyLocks::Hold> first;
  first.emplace(locks.Acquire({"a", "b"}));
  std::atomic<bool> acquired{false};
  auto second = std::async(std::launch::async, [&] {
    KeyLocks::Hold hold = locks.Acquire({"c", "b"});
    acquired = true;
  });
  EXPECT_EQ(second.wait_for(200ms), std::future_status::timeout);
  EXPECT_FALSE(acquired.load());
  first.reset();
  ASSERT_EQ(second.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(acquired.load());
  // Released by the second holder too: the keys are free again.
  KeyLocks::Hold again = locks.Acquire({"a", "b", "c"});
}

}  // namespace
}  // namespace papr::storage::internal
