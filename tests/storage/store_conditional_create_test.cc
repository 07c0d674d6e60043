// What relied on one local writer, with two writers of one store (on Postgres two Db instances
// on one database, i.e. two nodes; on RocksDB two users of one Db): a memory id is created by
// exactly one MemoryStore, and the usage maximum stays the maximum.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "storage/keys.h"
#include "storage/memory_store.h"
#include "storage/usage_store.h"
#include "tests/storage/db_fixture.h"

namespace papr::storage::testing {
namespace {

using ConditionalCreateTest = DbFixture;

MemoryRecord Memory(const std::string& id, const std::string& content) {
  MemoryRecord r;
  r.id = id;
  r.user_id = "u";
  r.content = content;
  return r;
}

std::string MemoryId(int i) { return std::string("m").append(std::to_string(i)); }

// Deterministic interleaving: both stores find the id free, then both commit. Only the first
// commit stores it; the second fails whole (no second record, statistics counted once).
TEST_P(ConditionalCreateTest, TwoStoresPreparingOneMemoryStoreItOnce) {
  MemoryStore a(db());
  MemoryStore b(second());
  WriteBatch from_a, from_b;
  ASSERT_FALSE(a.Get("u", "m1").ok());  // both find the id free
  ASSERT_FALSE(b.Get("u", "m1").ok());
  ASSERT_OK(a.PrepareWrite(Memory("m1", "alpha words"), &from_a));
  ASSERT_OK(b.PrepareWrite(Memory("m1", "beta words here"), &from_b));
  ASSERT_OK(db()->Write(from_a));
  Status late = second()->Write(from_b);
  EXPECT_EQ(late.code(), StatusCode::kAlreadyExists) << late.ToString();
  auto stored = b.Get("u", "m1");
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->content, "alpha words");
  auto count = b.CountForUser("u");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 1);
  auto stats = second()->GetCounters(Table::kUserStats, UserStatsKey("u"));
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->second, 2);  // the two tokens of "alpha words" only
}

// Puts of the same ids from threads on two stores: each id is written by exactly one Put
// (true), the others answer false, and the user's count is the number of ids.
TEST_P(ConditionalCreateTest, ConcurrentPutsFromTwoStoresStoreEachIdOnce) {
  constexpr int kIds = 40;
  constexpr int kThreadsPerStore = 2;
  MemoryStore a(db());
  MemoryStore b(second());
  std::vector<std::atomic<int>> written(kIds);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kThreadsPerStore; ++t) {
    MemoryStore* store = t % 2 == 0 ? &a : &b;
    const std::string content = std::string("writer ").append(std::to_string(t));
    threads.emplace_back([&, store, content] {
      while (!go) std::this_thread::yield();
      for (int i = 0; i < kIds; ++i) {
        auto put = store->Put(Memory(MemoryId(i), content));
        if (!put.ok()) {
          ADD_FAILURE() << put.status().ToString();
        } else if (*put) {
          written[i]++;
        }
      }
    });
  }
  go = true;
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < kIds; ++i) EXPECT_EQ(written[i].load(), 1) << "memory m" << i;
  auto count = a.CountForUser("u");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, kIds);
}

// Each UsageStore caches the largest size it saw; a cache gone stale (the other store raised the
// maximum meanwhile) must not add up to a maximum nobody submitted.
TEST_P(ConditionalCreateTest, TwoUsageStoresKeepTheTrueMaximum) {
  UsageStore a(db());
  UsageStore b(second());
  using Outcome = UsageStore::Outcome;
  ASSERT_OK(b.RecordBatch("u", 1, Outcome::kAccepted));          // b caches 1
  ASSERT_OK(a.RecordBatch("u", 10, Outcome::kAccepted));         // a reads 1, raises to 10
  ASSERT_OK(b.RecordBatch("u", 8, Outcome::kRejectedForSize));   // b still believes 1
  for (UsageStore* store : {&a, &b}) {
    auto usage = store->Get("u");
    ASSERT_TRUE(usage.ok()) << usage.status().ToString();
    EXPECT_EQ(usage->max_batch_size_attempted, 10);
    EXPECT_EQ(usage->batches_attempted, 3);
    EXPECT_EQ(usage->memories_attempted, 19);
  }
  ASSERT_OK(b.RecordBatch("u", 12, Outcome::kAccepted));
  ASSERT_OK(a.RecordBatch("u", 11, Outcome::kAccepted));  // a believes 10: writes 11
  UsageStore fresh(db());
  auto usage = fresh.Get("u");
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->max_batch_size_attempted, 12);
  EXPECT_EQ(fresh.Get("other")->max_batch_size_attempted, 0);
}

// A database written before the maximum became a set kept it as a counter: it still counts.
TEST_P(ConditionalCreateTest, UsageMaximumOfAnOlderDatabaseStillCounts) {
  WriteBatch legacy;
  legacy.AddCounters(Table::kMeta, MetaCounterKey("usage.max_attempted", "u"), 40, 0);
  ASSERT_OK(db()->Write(legacy));
  UsageStore usage(db());
  EXPECT_EQ(usage.Get("u")->max_batch_size_attempted, 40);
  ASSERT_OK(usage.RecordBatch("u", 30, UsageStore::Outcome::kAccepted));
  EXPECT_EQ(usage.Get("u")->max_batch_size_attempted, 40);
  ASSERT_OK(usage.RecordBatch("u", 50, UsageStore::Outcome::kAccepted));
  EXPECT_EQ(usage.Get("u")->max_batch_size_attempted, 50);
}

// With a flush interval, counts are pending until the flush: the store that took them counts
// them at once, another sees them once flushed, and a store stopped stores what was pending.
TEST_P(ConditionalCreateTest, BufferedUsageIsCountedAtOnceAndStoredByItsFlush) {
  using Outcome = UsageStore::Outcome;
  UsageStore reader(db());
  {
    UsageStore buffered(db(), /*flush_interval_ms=*/3'600'000);
    ASSERT_OK(buffered.RecordBatch("u", 30, Outcome::kAccepted));
    ASSERT_OK(buffered.RecordBatch("u", 70, Outcome::kRejectedForSize));
    auto own = buffered.Get("u");
    ASSERT_TRUE(own.ok()) << own.status().ToString();
    EXPECT_EQ(own->batches_attempted, 2);
    EXPECT_EQ(own->memories_attempted, 100);
    EXPECT_EQ(own->batches_accepted, 1);
    EXPECT_EQ(own->batches_rejected_for_size, 1);
    EXPECT_EQ(own->max_batch_size_attempted, 70);
    EXPECT_EQ(reader.Get("u")->batches_attempted, 0);
    ASSERT_OK(buffered.Flush());
    auto stored = reader.Get("u");
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
    EXPECT_EQ(stored->batches_attempted, 2);
    EXPECT_EQ(stored->memories_attempted, 100);
    EXPECT_EQ(stored->max_batch_size_attempted, 70);
    EXPECT_EQ(buffered.Get("u")->batches_attempted, 2);  // not counted twice
    ASSERT_OK(buffered.RecordBatch("u", 5, Outcome::kRefused));
  }
  auto after_stop = reader.Get("u");
  ASSERT_TRUE(after_stop.ok());
  EXPECT_EQ(after_stop->batches_attempted, 3);
  EXPECT_EQ(after_stop->batches_accepted, 1);
  EXPECT_EQ(after_stop->max_batch_size_attempted, 70);
}

INSTANTIATE_TEST_SUITE_P(Backends, ConditionalCreateTest,
                         ::testing::Values(Backend::kRocksDb, Backend::kPostgres),
                         BackendTestName);

}  // namespace
}  // namespace papr::storage::testing
