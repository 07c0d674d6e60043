// The storage::Store contract, run against both backends (RocksDB and a real PostgreSQL 15).
#include "storage/store.h"

#include <algorithm>
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "storage/keys.h"
#include "tests/storage/store_fixture.h"

namespace papr::storage::testing {
namespace {

class StoreTest : public StoreFixture, public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { OpenStore(GetParam()); }

  std::optional<std::string> Read(Table table, const std::string& key) {
    auto value = store_->Get(table, key);
    EXPECT_TRUE(value.ok()) << value.status().ToString();
    return value.ok() ? *value : std::nullopt;
  }

  // Every key of [start, end) through pages of `page` rows.
  std::vector<std::string> ScanKeys(Table table, std::string start, const std::string& end,
                                    size_t page) {
    std::vector<std::string> keys;
    for (int pages = 0; pages < 1000; ++pages) {
      auto got = store_->Scan(table, start, end, page);
      EXPECT_TRUE(got.ok()) << got.status().ToString();
      if (!got.ok()) break;
      EXPECT_LE(got->rows.size(), page);
      for (auto& row : got->rows) keys.push_back(row.first);
      if (!got->resume_key.has_value()) break;
      start = *got->resume_key;
    }
    return keys;
  }
};

TEST_P(StoreTest, PutGetDeleteAcrossTablesInOneAtomicWrite) {
  Batch batch;
  batch.Put(Table::kMemories, MemoryKey("u", "m1"), "record");
  batch.Put(Table::kIndexQueue, IndexQueueKey(7), EncodeIndexQueueValue("u", "m1"));
  batch.Put(Table::kHistory, HistoryKey("wf", 1), "event-1");
  batch.AddCounters(Table::kUserStats, UserStatsKey("u"), 1, 3);
  ASSERT_OK(store_->Write(batch));
  EXPECT_EQ(Read(Table::kMemories, MemoryKey("u", "m1")), "record");
  EXPECT_EQ(Read(Table::kHistory, HistoryKey("wf", 1)), "event-1");
  EXPECT_EQ(Read(Table::kMemories, HistoryKey("wf", 1)), std::nullopt);  // tables are separate

  Batch overwrite;
  overwrite.Put(Table::kMemories, MemoryKey("u", "m1"), "record-2");
  overwrite.Delete(Table::kHistory, HistoryKey("wf", 1));
  ASSERT_OK(store_->Write(overwrite));
  EXPECT_EQ(Read(Table::kMemories, MemoryKey("u", "m1")), "record-2");
  EXPECT_EQ(Read(Table::kHistory, HistoryKey("wf", 1)), std::nullopt);
}

// Answers in the order asked, absent keys as nullopt, a key asked twice twice, bytes exact.
TEST_P(StoreTest, MultiGetAnswersEachKeyInOrder) {
  const std::string nul_key = MemoryKey("u", std::string("m\0x", 3));
  Batch batch;
  batch.Put(Table::kMemories, MemoryKey("u", "m1"), "one");
  batch.Put(Table::kMemories, nul_key, std::string("v\0\xff", 3));
  batch.Put(Table::kHistory, MemoryKey("u", "m2"), "another table");
  ASSERT_OK(store_->Write(batch));
  auto values = store_->MultiGet(
      Table::kMemories, {MemoryKey("u", "m2"), nul_key, MemoryKey("u", "m1"), nul_key});
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  ASSERT_EQ(values->size(), 4u);
  EXPECT_EQ((*values)[0], std::nullopt);  // only in kHistory
  EXPECT_EQ((*values)[1], std::string("v\0\xff", 3));
  EXPECT_EQ((*values)[2], "one");
  EXPECT_EQ((*values)[3], std::string("v\0\xff", 3));
  auto none = store_->MultiGet(Table::kMemories, {});
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
}

TEST_P(StoreTest, FailedInsertAppliesNothingOfTheBatch) {
  Batch first;
  first.Insert(Table::kExecutions, ExecutionKey("wf"), "exec-1");
  ASSERT_OK(store_->Write(first));

  Batch second;
  second.Put(Table::kMemories, MemoryKey("u", "m1"), "record");
  second.Put(Table::kHistory, HistoryKey("wf", 2), "event-2");
  second.AddCounters(Table::kUsage, UsageKey("u"), 1, 1);
  second.Insert(Table::kExecutions, ExecutionKey("wf"), "exec-2");
  Status status = store_->Write(second);
  EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << status.ToString();
  EXPECT_EQ(Read(Table::kExecutions, ExecutionKey("wf")), "exec-1");
  EXPECT_EQ(Read(Table::kMemories, MemoryKey("u", "m1")), std::nullopt);
  EXPECT_EQ(Read(Table::kHistory, HistoryKey("wf", 2)), std::nullopt);
  auto usage = store_->GetCounters(Table::kUsage, UsageKey("u"));
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(*usage, std::make_pair(int64_t{0}, int64_t{0}));
}

TEST_P(StoreTest, InsertOfOneKeyTwiceInABatchFails) {
  Batch batch;
  batch.Insert(Table::kBlobs, BlobKey("wf", "input"), "a");
  batch.Insert(Table::kBlobs, BlobKey("wf", "input"), "b");
  EXPECT_EQ(store_->Write(batch).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Read(Table::kBlobs, BlobKey("wf", "input")), std::nullopt);
}

TEST_P(StoreTest, ConcurrentInsertsOfOneKeyExactlyOneWins) {
  constexpr int kThreads = 8;
  constexpr int kKeys = 10;
  for (int k = 0; k < kKeys; ++k) {
    std::string key = ExecutionKey("wf-" + std::to_string(k));
    std::atomic<int> wins{0};
    std::atomic<int> exists{0};
    std::atomic<int> winner{-1};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        Batch batch;
        batch.Insert(Table::kExecutions, key, "owner-" + std::to_string(t));
        batch.AddCounters(Table::kUsage, UsageKey("inserts"), 1, 0);
        Status s = store_->Write(batch);
        if (s.ok()) {
          wins++;
          winner = t;
        } else if (s.code() == StatusCode::kAlreadyExists) {
          exists++;
        } else {
          ADD_FAILURE() << s.ToString();
        }
      });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(wins.load(), 1) << "key " << k;
    EXPECT_EQ(exists.load(), kThreads - 1);
    EXPECT_EQ(Read(Table::kExecutions, key), "owner-" + std::to_string(winner.load()));
  }
  auto inserts = store_->GetCounters(Table::kUsage, UsageKey("inserts"));
  ASSERT_TRUE(inserts.ok());
  EXPECT_EQ(inserts->first, kKeys);  // only the winners' batches applied
}

TEST_P(StoreTest, ScanHonoursRangeLimitAndPages) {
  Batch batch;
  for (int i = 0; i < 25; ++i) batch.Put(Table::kHistory, HistoryKey("wf-a", i + 1), "e");
  batch.Put(Table::kHistory, HistoryKey("wf-b", 1), "other");
  batch.Put(Table::kActivities, ActivityKey("wf-a", 1), "other table");
  ASSERT_OK(store_->Write(batch));

  std::string prefix = HistoryPrefix("wf-a");
  auto page = store_->Scan(Table::kHistory, prefix, PrefixSuccessor(prefix), 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->rows.size(), 10u);
  EXPECT_EQ(page->rows[0].first, HistoryKey("wf-a", 1));
  EXPECT_EQ(page->rows[9].first, HistoryKey("wf-a", 10));
  ASSERT_TRUE(page->resume_key.has_value());
  EXPECT_EQ(*page->resume_key, HistoryKey("wf-a", 11));

  std::vector<std::string> all = ScanKeys(Table::kHistory, prefix, PrefixSuccessor(prefix), 7);
  ASSERT_EQ(all.size(), 25u);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(all[i], HistoryKey("wf-a", i + 1));

  // The end is exclusive; an empty end runs to the table's end; a range may be empty.
  EXPECT_EQ(ScanKeys(Table::kHistory, HistoryKey("wf-a", 3), HistoryKey("wf-a", 5), 100).size(),
            2u);
  EXPECT_EQ(ScanKeys(Table::kHistory, prefix, "", 100).size(), 26u);
  EXPECT_TRUE(ScanKeys(Table::kHistory, "x", "y", 100).empty());
  auto exact = store_->Scan(Table::kHistory, HistoryKey("wf-b", 1), "", 1);
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->rows.size(), 1u);
  EXPECT_FALSE(exact->resume_key.has_value());  // nothing after the last row
  EXPECT_EQ(store_->Scan(Table::kHistory, "", "", 0).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(StoreTest, KeysOrderBytewiseIncludingNulAndFfBytes) {
  std::vector<std::string> keys = {std::string("\x00", 1), std::string("\x00\x00", 2),
                                   std::string("\x00\xff", 2), "\x01", "a",
                                   std::string("a\x00", 2), "a\x01", "a\x7f", "a\x80", "a\xff",
                                   "a\xff\xff", "b", "\xfe", "\xff", std::string("\xff\x00\x01", 3),
                                   "\xff\xff"};
  std::vector<std::string> shuffled = keys;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(7));
  Batch batch;
  for (const std::string& key : shuffled) batch.Put(Table::kPostings, key, "v:" + key);
  ASSERT_OK(store_->Write(batch));

  EXPECT_EQ(ScanKeys(Table::kPostings, "", "", 3), keys);
  // A prefix scan is the range [prefix, PrefixSuccessor(prefix)).
  std::vector<std::string> a_keys(keys.begin() + 4, keys.begin() + 11);
  EXPECT_EQ(ScanKeys(Table::kPostings, "a", PrefixSuccessor("a"), 100), a_keys);
  EXPECT_EQ(Read(Table::kPostings, std::string("a\x00", 2)), std::string("v:a\x00", 4));
  EXPECT_EQ(Read(Table::kPostings, "a\xff"), "v:a\xff");
}

TEST_P(StoreTest, CountersAddUpUnderConcurrentWriters) {
  constexpr int kThreads = 8;
  constexpr int kAddsPerThread = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kAddsPerThread; ++i) {
        Batch batch;
        batch.AddCounters(Table::kUsage, UsageKey("hot-user"), 1, 3);
        batch.AddCounters(Table::kMeta, MetaCounterKey("docs", "hot-user"), -1, 0);
        Status s = store_->Write(batch);
        if (!s.ok()) ADD_FAILURE() << s.ToString();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  auto usage = store_->GetCounters(Table::kUsage, UsageKey("hot-user"));
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->first, kThreads * kAddsPerThread);
  EXPECT_EQ(usage->second, 3 * kThreads * kAddsPerThread);
  auto meta = store_->GetCounters(Table::kMeta, MetaCounterKey("docs", "hot-user"));
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->first, -kThreads * kAddsPerThread);
}

TEST_P(StoreTest, CountersDeleteThenAddInOneBatchKeepsOnlyTheLaterAdds) {
  Batch setup;
  setup.AddCounters(Table::kUserStats, UserStatsKey("u"), 10, 100);
  setup.AddCounters(Table::kUserStats, UserStatsKey("u"), 5, 50);  // one key twice: summed
  ASSERT_OK(store_->Write(setup));
  auto before = store_->GetCounters(Table::kUserStats, UserStatsKey("u"));
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(*before, std::make_pair(int64_t{15}, int64_t{150}));

  Batch reset;
  reset.Delete(Table::kUserStats, UserStatsKey("u"));
  reset.AddCounters(Table::kUserStats, UserStatsKey("u"), 2, 7);
  ASSERT_OK(store_->Write(reset));
  auto after = store_->GetCounters(Table::kUserStats, UserStatsKey("u"));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, std::make_pair(int64_t{2}, int64_t{7}));
}

TEST_P(StoreTest, LastOpOnAKeyWinsWithinABatch) {
  Batch batch;
  batch.Put(Table::kTimers, "t1", "first");
  batch.Put(Table::kTimers, "t1", "second");
  batch.Put(Table::kTimers, "t2", "doomed");
  batch.Delete(Table::kTimers, "t2");
  batch.Delete(Table::kTimers, "t3");
  batch.Put(Table::kTimers, "t3", "revived");
  ASSERT_OK(store_->Write(batch));
  EXPECT_EQ(Read(Table::kTimers, "t1"), "second");
  EXPECT_EQ(Read(Table::kTimers, "t2"), std::nullopt);
  EXPECT_EQ(Read(Table::kTimers, "t3"), "revived");
}

TEST_P(StoreTest, SnapshotSeesTheStoreAsOfItsCreation) {
  Batch before;
  before.Put(Table::kExecutions, ExecutionKey("wf"), "v1");
  before.Put(Table::kVisibility, "vis-1", "x");
  before.AddCounters(Table::kUsage, UsageKey("u"), 1, 1);
  ASSERT_OK(store_->Write(before));

  auto snapshot = store_->NewSnapshot();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  Batch after;
  after.Put(Table::kExecutions, ExecutionKey("wf"), "v2");
  after.Put(Table::kVisibility, "vis-2", "y");
  after.Delete(Table::kVisibility, "vis-1");
  after.AddCounters(Table::kUsage, UsageKey("u"), 5, 5);
  ASSERT_OK(store_->Write(after));

  auto old_value = (*snapshot)->Get(Table::kExecutions, ExecutionKey("wf"));
  ASSERT_TRUE(old_value.ok());
  EXPECT_EQ(*old_value, "v1");
  auto old_rows = (*snapshot)->Scan(Table::kVisibility, "", "", 10);
  ASSERT_TRUE(old_rows.ok());
  ASSERT_EQ(old_rows->rows.size(), 1u);
  EXPECT_EQ(old_rows->rows[0].first, "vis-1");
  auto old_usage = (*snapshot)->GetCounters(Table::kUsage, UsageKey("u"));
  ASSERT_TRUE(old_usage.ok());
  EXPECT_EQ(old_usage->first, 1);

  EXPECT_EQ(Read(Table::kExecutions, ExecutionKey("wf")), "v2");
  EXPECT_EQ(ScanKeys(Table::kVisibility, "", "", 10), std::vector<std::string>{"vis-2"});
  snapshot->reset();
}

TEST_P(StoreTest, LargeValuesRoundTrip) {
  std::string blob(4 << 20, '\0');
  std::mt19937 rng(42);
  for (char& c : blob) c = static_cast<char>(rng());
  Batch batch;
  batch.Put(Table::kBlobs, BlobKey("wf", "input"), blob);
  batch.Put(Table::kBlobs, BlobKey("wf", "small"), "s");
  ASSERT_OK(store_->Write(batch));
  EXPECT_EQ(Read(Table::kBlobs, BlobKey("wf", "input")), blob);
  auto rows = store_->Scan(Table::kBlobs, BlobPrefix("wf"), PrefixSuccessor(BlobPrefix("wf")), 10);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->rows.size(), 2u);
  EXPECT_EQ(rows->rows[0].second, blob);
}

TEST_P(StoreTest, NoSyncWritesAreAppliedInOrderWithSyncedOnes) {
  for (int i = 0; i < 20; ++i) {
    Batch batch;
    batch.Put(Table::kActivities, ActivityKey("wf", 1), "attempt-" + std::to_string(i));
    if (i % 2 == 0) batch.SetNoSync();
    ASSERT_OK(store_->Write(batch));
  }
  EXPECT_EQ(Read(Table::kActivities, ActivityKey("wf", 1)), "attempt-19");
}

TEST_P(StoreTest, EmptyBatchIsANoOp) { EXPECT_OK(store_->Write(Batch())); }

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest,
                         ::testing::Values(Backend::kRocksDb, Backend::kPostgres),
                         BackendTestName);

}  // namespace
}  // namespace papr::storage::testing
