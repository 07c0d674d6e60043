// WriteBatch::Insert through storage::Db on both paths: RocksDB directly (checked while Db holds
// the inserted keys) and a Db on a PostgresStore (the store's own Insert), with two writers.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "storage/keys.h"
#include "tests/storage/db_fixture.h"

namespace papr::storage::testing {
namespace {

class DbInsertTest : public DbFixture {
 protected:
  std::optional<std::string> Read(Db* db, Table table, const std::string& key) {
    auto value = db->Get(table, key);
    EXPECT_TRUE(value.ok()) << value.status().ToString();
    return value.ok() ? *value : std::nullopt;
  }
  int64_t Counter(Db* db, const std::string& key) {
    auto counters = db->GetCounters(Table::kUsage, key);
    EXPECT_TRUE(counters.ok()) << counters.status().ToString();
    return counters.ok() ? counters->first : -1;
  }
};

TEST_P(DbInsertTest, InsertOfAnExistingKeyFailsTheWholeBatch) {
  WriteBatch first;
  first.Insert(Table::kExecutions, ExecutionKey("wf"), "exec-1");
  ASSERT_OK(db()->Write(first));
  EXPECT_EQ(Read(second(), Table::kExecutions, ExecutionKey("wf")), "exec-1");

  WriteBatch again;
  again.Put(Table::kMemories, MemoryKey("u", "m1"), "record");
  again.AddCounters(Table::kUsage, UsageKey("u"), 1, 1);
  again.Insert(Table::kExecutions, ExecutionKey("wf"), "exec-2");
  for (Db* writer : {db(), second()}) {
    Status s = writer->Write(again);
    EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
  }
  EXPECT_EQ(Read(db(), Table::kExecutions, ExecutionKey("wf")), "exec-1");
  EXPECT_EQ(Read(db(), Table::kMemories, MemoryKey("u", "m1")), std::nullopt);
  EXPECT_EQ(Counter(db(), UsageKey("u")), 0);
  // A failed Insert latches nothing: the next write goes through.
  WriteBatch next;
  next.Put(Table::kMemories, MemoryKey("u", "m2"), "record");
  EXPECT_OK(db()->Write(next));
}

TEST_P(DbInsertTest, InsertOfOneKeyTwiceInABatchFails) {
  WriteBatch batch;
  batch.Insert(Table::kBlobs, BlobKey("wf", "input"), "a");
  batch.Put(Table::kMemories, MemoryKey("u", "m1"), "record");
  batch.Insert(Table::kBlobs, BlobKey("wf", "input"), "b");
  EXPECT_EQ(db()->Write(batch).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Read(db(), Table::kBlobs, BlobKey("wf", "input")), std::nullopt);
  EXPECT_EQ(Read(db(), Table::kMemories, MemoryKey("u", "m1")), std::nullopt);
}

// The engine inserts an execution row and puts its state again in the same commit.
TEST_P(DbInsertTest, InsertThenPutOfOneKeyStoresTheLaterValue) {
  WriteBatch batch;
  batch.Insert(Table::kExecutions, ExecutionKey("wf"), "created");
  batch.Put(Table::kExecutions, ExecutionKey("wf"), "after-first-task");
  ASSERT_OK(db()->Write(batch));
  EXPECT_EQ(Read(db(), Table::kExecutions, ExecutionKey("wf")), "after-first-task");
}

// Activity writes reach the engine's commit through Append: their Inserts stay conditional.
TEST_P(DbInsertTest, AppendedInsertsStayConditional) {
  WriteBatch first;
  first.Insert(Table::kMemories, MemoryKey("u", "m1"), "record-1");
  ASSERT_OK(db()->Write(first));

  WriteBatch activity;
  activity.Insert(Table::kMemories, MemoryKey("u", "m1"), "record-2");
  WriteBatch commit;
  commit.Put(Table::kHistory, HistoryKey("wf", 7), "event");
  commit.Append(activity);
  EXPECT_TRUE(commit.has_inserts());
  EXPECT_EQ(second()->Write(commit).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Read(db(), Table::kMemories, MemoryKey("u", "m1")), "record-1");
  EXPECT_EQ(Read(db(), Table::kHistory, HistoryKey("wf", 7)), std::nullopt);
}

// Threads on two writers (two Db instances on one PostgreSQL database; one RocksDB Db) insert
// the same keys at once: exactly one batch per key applies.
TEST_P(DbInsertTest, ConcurrentInsertsFromTwoWritersExactlyOneWins) {
  constexpr int kThreads = 8;
  constexpr int kKeys = 20;
  for (int k = 0; k < kKeys; ++k) {
    const std::string key = ExecutionKey("wf-" + std::to_string(k));
    std::atomic<int> wins{0}, exists{0}, winner{-1};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        WriteBatch batch;
        batch.Insert(Table::kExecutions, key, "writer-" + std::to_string(t));
        batch.AddCounters(Table::kUsage, UsageKey("inserts"), 1, 0);
        while (!go) std::this_thread::yield();
        Status s = (t % 2 == 0 ? db() : second())->Write(batch);
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
    go = true;
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(wins.load(), 1) << "key " << k;
    EXPECT_EQ(exists.load(), kThreads - 1);
    EXPECT_EQ(Read(second(), Table::kExecutions, key), "writer-" + std::to_string(winner.load()));
  }
  EXPECT_EQ(Counter(db(), UsageKey("inserts")), kKeys);  // only the winners' batches applied
}

INSTANTIATE_TEST_SUITE_P(Backends, DbInsertTest,
                         ::testing::Values(Backend::kRocksDb, Backend::kPostgres),
                         BackendTestName);

}  // namespace
}  // namespace papr::storage::testing
