// PostgresStore beyond the shared contract: fencing between two nodes, shard leases, schema
// versions, and faults of the database itself (server stopped, connection killed in COMMIT).
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "storage/keys.h"
#include "tests/storage/store_fixture.h"

namespace papr::storage::testing {
namespace {

using std::chrono::milliseconds;

class PgStoreTest : public StoreFixture, public ::testing::Test {
 protected:
  void SetUp() override {
    OpenStore(Backend::kPostgres);
    if (IsSkipped() || HasFatalFailure()) return;
    auto admin = PgSession::Connect(pg_options_.url);
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_ = std::move(admin).value();
  }

  std::string Sql(const std::string& sql) {
    auto result = admin_->Query(sql);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : "";
  }

  std::string WaitForBackendWaitingOn(const std::string& wait_events) {
    return testing::WaitForBackendWaitingOn(*admin_, wait_events);
  }
  void CloseCommitGate() { ASSERT_OK(testing::CloseCommitGate(*admin_)); }
  void OpenCommitGate() { ASSERT_OK(testing::OpenCommitGate(*admin_)); }
  void SetSynchronousStandby(const std::string& name) {
    ASSERT_OK(testing::SetSynchronousStandby(*SharedPgServer(), *admin_, name));
  }

  static Batch MemoryPut(const std::string& id, std::optional<Fence> fence = std::nullopt) {
    Batch batch;
    batch.Put(Table::kMemories, MemoryKey("u", id), "record-" + id);
    batch.AddCounters(Table::kUserStats, UserStatsKey("u"), 1, 0);
    if (fence.has_value()) batch.SetFence(*fence);
    return batch;
  }

  bool HasMemory(Store& store, const std::string& id) {
    auto value = store.Get(Table::kMemories, MemoryKey("u", id));
    EXPECT_TRUE(value.ok()) << value.status().ToString();
    return value.ok() && value->has_value();
  }

  // Holds every transaction slot of the store's write group (half of its pool of 8) in a
  // gated COMMIT, then queues `queued` more writes behind them (pg_write_group.h), opens the
  // gate and removes it. Returns the queued writes' outcomes.
  std::vector<Status> WritesQueuedBehindBusyTransactions(const std::vector<Batch>& queued) {
    auto& pg = static_cast<PostgresStore&>(*store_);
    int64_t writes_before = pg.stats().writes;
    CloseCommitGate();
    std::vector<std::future<Status>> leaders, followers;
    for (int i = 0; i < 4; ++i) {  // one at a time, so that each holds a transaction
      leaders.push_back(std::async(std::launch::async, [this, i] {
        return store_->Write(MemoryPut("leader" + std::to_string(i)));
      }));
      std::string gated = std::to_string(i + 1);
      for (int j = 0; j < 2000 && Sql("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                      "current_database() AND wait_event = 'advisory'") != gated;
           ++j) {
        std::this_thread::sleep_for(milliseconds(5));
      }
    }
    // One at a time, so that they queue in the order given.
    int64_t expected = writes_before + 4;
    for (const Batch& batch : queued) {
      followers.push_back(std::async(std::launch::async, [this, &batch] {
        return store_->Write(batch);
      }));
      ++expected;
      for (int i = 0; i < 2000 && pg.stats().writes < expected; ++i) {
        std::this_thread::sleep_for(milliseconds(1));
      }
    }
    OpenCommitGate();
    for (auto& leader : leaders) EXPECT_OK(leader.get());
    std::vector<Status> out;
    for (auto& follower : followers) out.push_back(follower.get());
    Sql("DROP TRIGGER commit_gate ON memories");  // so that the test may queue writes again
    Sql("DROP FUNCTION test_commit_gate()");
    return out;
  }

  std::unique_ptr<PgSession> admin_;
};

Batch HistoryPut(const std::string& id) {
  Batch batch;
  batch.Put(Table::kHistory, HistoryKey(id, 1), "event");
  return batch;
}

// The storage-level fencing race (issue 15): the old owner's fenced commit is in flight when
// the new owner takes over. The takeover waits for it; afterwards every write of the old
// owner fails with OwnershipLost and applies nothing.
TEST_F(PgStoreTest, TakeoverWaitsForOpenFencedWriteThenOldOwnerIsFencedOut) {
  std::unique_ptr<PostgresStore> node_b = OpenPgNode();
  ASSERT_NE(node_b, nullptr);
  auto lease_a = store_->AcquireShard(7, "node-a", milliseconds(0));  // expires at once
  ASSERT_TRUE(lease_a.ok()) << lease_a.status().ToString();
  ASSERT_OK(store_->Write(MemoryPut("a1", lease_a->fence())));

  CloseCommitGate();
  auto in_flight = std::async(std::launch::async,
                              [&] { return store_->Write(MemoryPut("a2", lease_a->fence())); });
  ASSERT_NE(WaitForBackendWaitingOn("'advisory'"), "") << "a's commit never reached the gate";
  auto takeover = std::async(std::launch::async,
                             [&] { return node_b->AcquireShard(7, "node-b", milliseconds(60000)); });
  // The range_id bump waits for a's FOR SHARE lock on the shard row.
  ASSERT_NE(WaitForBackendWaitingOn("'transactionid', 'tuple'"), "") << "the takeover did not wait";
  EXPECT_EQ(takeover.wait_for(milliseconds(0)), std::future_status::timeout);
  OpenCommitGate();

  Status a2 = in_flight.get();
  EXPECT_TRUE(a2.ok()) << a2.ToString();
  auto lease_b = takeover.get();
  ASSERT_TRUE(lease_b.ok()) << lease_b.status().ToString();
  EXPECT_EQ(lease_b->range_id, lease_a->range_id + 1);

  Status stale = store_->Write(MemoryPut("a3", lease_a->fence()));
  EXPECT_EQ(stale.code(), StatusCode::kOwnershipLost) << stale.ToString();
  EXPECT_EQ(store_->RenewShard(*lease_a, milliseconds(1000)).code(), StatusCode::kOwnershipLost);
  EXPECT_OK(node_b->Write(MemoryPut("b1", lease_b->fence())));

  EXPECT_TRUE(HasMemory(*node_b, "a1"));
  EXPECT_TRUE(HasMemory(*node_b, "a2"));  // committed before the takeover: b sees it
  EXPECT_FALSE(HasMemory(*node_b, "a3"));
  EXPECT_TRUE(HasMemory(*node_b, "b1"));
  auto stats = node_b->GetCounters(Table::kUserStats, UserStatsKey("u"));
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->first, 3);  // a1, a2, b1: the fenced-out batch counted nothing
}

TEST_F(PgStoreTest, LeaseOfALiveOwnerIsRefusedAndAReleasedShardIsFree) {
  std::unique_ptr<PostgresStore> node_b = OpenPgNode();
  ASSERT_NE(node_b, nullptr);
  auto lease_a = store_->AcquireShard(3, "node-a", milliseconds(60000));
  ASSERT_TRUE(lease_a.ok());
  EXPECT_EQ(node_b->AcquireShard(3, "node-b", milliseconds(60000)).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store_->RenewShard(*lease_a, milliseconds(60000)).ok());
  // Re-acquiring one's own shard (a restarted node) fences out the earlier incarnation.
  auto again = store_->AcquireShard(3, "node-a", milliseconds(60000));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->range_id, lease_a->range_id + 1);
  EXPECT_EQ(store_->Write(MemoryPut("x", lease_a->fence())).code(), StatusCode::kOwnershipLost);
  EXPECT_TRUE(store_->ReleaseShard(*again).ok());
  auto lease_b = node_b->AcquireShard(3, "node-b", milliseconds(60000));
  ASSERT_TRUE(lease_b.ok()) << lease_b.status().ToString();
  EXPECT_EQ(lease_b->range_id, again->range_id + 1);
  // A fence on a shard nobody ever acquired never matches.
  EXPECT_EQ(store_->Write(MemoryPut("y", Fence{99, 1})).code(), StatusCode::kOwnershipLost);
}

TEST_F(PgStoreTest, DatabaseWithANewerSchemaIsRefused) {
  Sql("UPDATE schema_version SET version = 99");
  auto reopened = PostgresStore::Open(pg_options_);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(reopened.status().message().find("schema version 99"), std::string::npos)
      << reopened.status().message();
}

TEST_F(PgStoreTest, DatabaseAtSchemaVersion1IsMigrated) {
  Sql("DROP TABLE nodes");
  Sql("DROP TABLE inbox");
  Sql("DROP TABLE end_users");
  Sql("ALTER TABLE history RESET (toast_tuple_target)");
  Sql("UPDATE schema_version SET version = 1");
  auto reopened = PostgresStore::Open(pg_options_);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(Sql("SELECT version FROM schema_version"), "4");
  EXPECT_EQ(Sql("SELECT count(*) FROM end_users"), "0");
  EXPECT_EQ(Sql("SELECT count(*) FROM inbox"), "0");
  EXPECT_OK((*reopened)->Heartbeat(NodeInfo{"node-a", "127.0.0.1:1"}));
  EXPECT_EQ(Sql("SELECT count(*) FROM nodes"), "1");
  EXPECT_EQ(Sql("SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = 'history'"),
            "toast_tuple_target=8160");
}

TEST_F(PgStoreTest, DatabaseAtSchemaVersion2GainsTheInbox) {
  Sql("DROP TABLE inbox");
  Sql("DROP TABLE end_users");
  Sql("UPDATE schema_version SET version = 2");
  auto reopened = PostgresStore::Open(pg_options_);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(Sql("SELECT version FROM schema_version"), "4");
  Batch batch;
  batch.Put(Table::kInbox, InboxStartKey(3, "wf"), "start");
  ASSERT_OK((*reopened)->Write(batch));
  EXPECT_EQ(Sql("SELECT count(*) FROM inbox"), "1");
}

TEST_F(PgStoreTest, DatabaseAtSchemaVersion3GainsTheEndUsersTable) {
  Sql("DROP TABLE end_users");
  Sql("UPDATE schema_version SET version = 3");
  auto reopened = PostgresStore::Open(pg_options_);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(Sql("SELECT version FROM schema_version"), "4");
  Batch batch;
  batch.Insert(Table::kEndUsers, "owner\0xext", "id");
  ASSERT_OK((*reopened)->Write(batch));
  EXPECT_EQ(Sql("SELECT count(*) FROM end_users"), "1");
}

TEST_F(PgStoreTest, UnreachableServerIsUnavailable) {
  PgStoreOptions options = pg_options_;
  options.url = "postgresql://papr@127.0.0.1:1/none";
  options.connect_timeout_seconds = 2;
  EXPECT_EQ(PostgresStore::Open(options).status().code(), StatusCode::kUnavailable);
}

TEST_F(PgStoreTest, StoppedServerRefusesWithUnavailableThenStoreReconnectsByItself) {
  ASSERT_OK(store_->Write(MemoryPut("before")));
  PgServer* server = SharedPgServer();
  ASSERT_TRUE(server->Stop(/*immediate=*/true).ok());
  Status write = store_->Write(MemoryPut("during"));
  EXPECT_EQ(write.code(), StatusCode::kUnavailable) << write.ToString();
  EXPECT_EQ(store_->Get(Table::kMemories, MemoryKey("u", "before")).status().code(),
            StatusCode::kUnavailable);
  ASSERT_TRUE(server->Start().ok());
  // Every pooled connection died with the server; the next callers reconnect.
  Status after = store_->Write(MemoryPut("after"));
  EXPECT_TRUE(after.ok()) << after.ToString();
  EXPECT_TRUE(HasMemory(*store_, "before"));
  EXPECT_FALSE(HasMemory(*store_, "during"));
  EXPECT_TRUE(HasMemory(*store_, "after"));
}

// Killed inside COMMIT before the commit record: the outcome is reported unknown, and a
// re-read tells the truth (not applied).
TEST_F(PgStoreTest, ConnectionKilledInCommitIsUnknownOutcomeAndReReadShowsNotApplied) {
  CloseCommitGate();
  auto write = std::async(std::launch::async, [&] { return store_->Write(MemoryPut("m")); });
  std::string pid = WaitForBackendWaitingOn("'advisory'");
  ASSERT_NE(pid, "");
  Sql("SELECT pg_terminate_backend(" + pid + ")");
  Status status = write.get();
  OpenCommitGate();
  EXPECT_EQ(status.code(), StatusCode::kUnknownOutcome) << status.ToString();
  EXPECT_FALSE(HasMemory(*store_, "m"));
  EXPECT_OK(store_->Write(MemoryPut("next")));  // the pool replaced the connection
}

// Killed after the commit record was written, while COMMIT waits for a (missing) synchronous
// standby: committed locally, reply lost. Unknown again, and the re-read shows it applied.
TEST_F(PgStoreTest, ConnectionKilledAfterCommitRecordIsUnknownOutcomeAndReReadShowsApplied) {
  SetSynchronousStandby("papr_no_such_standby");
  auto write = std::async(std::launch::async, [&] { return store_->Write(MemoryPut("m")); });
  std::string pid = WaitForBackendWaitingOn("'SyncRep'");
  if (!pid.empty()) Sql("SELECT pg_terminate_backend(" + pid + ")");
  SetSynchronousStandby("");  // also releases the wait if the kill did not happen
  ASSERT_NE(pid, "") << "the commit never waited for the standby";
  Status status = write.get();
  EXPECT_EQ(status.code(), StatusCode::kUnknownOutcome) << status.ToString();
  EXPECT_TRUE(HasMemory(*store_, "m"));
}

TEST_F(PgStoreTest, OneWriteIsOneRoundTrip) {
  Batch batch = MemoryPut("m");
  for (int i = 0; i < 30; ++i) batch.Put(Table::kHistory, HistoryKey("wf", i + 1), "event");
  batch.Insert(Table::kExecutions, ExecutionKey("wf"), "exec");
  auto before = static_cast<PostgresStore&>(*store_).stats();
  ASSERT_OK(store_->Write(batch));
  auto after = static_cast<PostgresStore&>(*store_).stats();
  EXPECT_EQ(after.round_trips - before.round_trips, 1);
  EXPECT_EQ(after.rows - before.rows, 33);
  // BEGIN, memories upsert, history upsert, executions insert, counters add, COMMIT.
  EXPECT_EQ(after.statements - before.statements, 6);
}

// Writes that arrive while every transaction slot is busy share the next transaction: one
// commit (one WAL flush) for all of them.
TEST_F(PgStoreTest, WritesQueuedWhileTransactionsAreBusyShareOneCommit) {
  std::vector<Batch> queued;
  for (int i = 0; i < 6; ++i) queued.push_back(HistoryPut("wf" + std::to_string(i)));
  auto& pg = static_cast<PostgresStore&>(*store_);
  int64_t commits_before = pg.stats().commits;
  for (const Status& status : WritesQueuedBehindBusyTransactions(queued)) EXPECT_OK(status);
  // The 4 gated ones, then the 6 queued together.
  EXPECT_EQ(pg.stats().commits - commits_before, 4 + 1);
  for (int i = 0; i < 6; ++i) {
    auto row = store_->Get(Table::kHistory, HistoryKey("wf" + std::to_string(i), 1));
    ASSERT_TRUE(row.ok()) << row.status().ToString();
    EXPECT_TRUE(row->has_value()) << i;
  }
}

Batch ExecutionInsert(const std::string& id, const std::string& value) {
  Batch batch;
  batch.Insert(Table::kExecutions, ExecutionKey(id), value);
  batch.Put(Table::kHistory, HistoryKey(id, 1), "event");
  return batch;
}

// Batches with Inserts of free keys (an engine transition's usual shape) share a commit too.
TEST_F(PgStoreTest, QueuedInsertsOfFreeKeysShareOneCommit) {
  std::vector<Batch> queued;
  for (int i = 0; i < 6; ++i) queued.push_back(ExecutionInsert("wf" + std::to_string(i), "x"));
  auto& pg = static_cast<PostgresStore&>(*store_);
  int64_t commits_before = pg.stats().commits;
  for (const Status& status : WritesQueuedBehindBusyTransactions(queued)) EXPECT_OK(status);
  EXPECT_EQ(pg.stats().commits - commits_before, 4 + 1);
  EXPECT_EQ(pg.stats().insert_conflicts, 0);
  for (int i = 0; i < 6; ++i) {
    auto row = store_->Get(Table::kExecutions, ExecutionKey("wf" + std::to_string(i)));
    ASSERT_TRUE(row.ok()) << row.status().ToString();
    EXPECT_EQ(row->value_or(""), "x") << i;
  }
}

// A queued Insert of a taken key fails its group; then each member runs alone: the Insert fails,
// the writes queued with it commit. Right after, batches with Inserts run alone for a while.
TEST_F(PgStoreTest, AQueuedInsertOfATakenKeyFailsAloneTheOthersCommit) {
  Batch taken;
  taken.Insert(Table::kExecutions, ExecutionKey("taken"), "first");
  ASSERT_OK(store_->Write(taken));
  std::vector<Batch> queued;
  for (int i = 0; i < 5; ++i) queued.push_back(HistoryPut("wf" + std::to_string(i)));
  Batch again;
  again.Insert(Table::kExecutions, ExecutionKey("taken"), "second");
  queued.insert(queued.begin() + 2, again);
  auto& pg = static_cast<PostgresStore&>(*store_);
  std::vector<Status> outcomes = WritesQueuedBehindBusyTransactions(queued);
  ASSERT_EQ(outcomes.size(), 6u);
  for (size_t i = 0; i < outcomes.size(); ++i) {
    if (i == 2) {
      EXPECT_EQ(outcomes[i].code(), StatusCode::kAlreadyExists) << outcomes[i].ToString();
    } else {
      EXPECT_OK(outcomes[i]);
    }
  }
  EXPECT_EQ(pg.stats().insert_conflicts, 1);
  auto row = store_->Get(Table::kExecutions, ExecutionKey("taken"));
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->value_or(""), "first");
  for (int i = 0; i < 5; ++i) {
    auto history = store_->Get(Table::kHistory, HistoryKey("wf" + std::to_string(i), 1));
    ASSERT_TRUE(history.ok()) << history.status().ToString();
    EXPECT_TRUE(history->has_value()) << i;
  }

  std::vector<Batch> inserts;
  for (int i = 0; i < 3; ++i) inserts.push_back(ExecutionInsert("new" + std::to_string(i), "x"));
  int64_t commits_before = pg.stats().commits;
  for (const Status& status : WritesQueuedBehindBusyTransactions(inserts)) EXPECT_OK(status);
  EXPECT_EQ(pg.stats().commits - commits_before, 4 + 3);
}

// In one group, an Insert of a key that an earlier batch of the group wrote fails as it would
// have one after the other (the key exists by then); the earlier write stands.
TEST_F(PgStoreTest, QueuedInsertAfterAQueuedPutOfItsKeyFails) {
  Batch put;
  put.Put(Table::kExecutions, ExecutionKey("k"), "put");
  std::vector<Batch> queued{put, ExecutionInsert("k", "inserted"), HistoryPut("other")};
  std::vector<Status> outcomes = WritesQueuedBehindBusyTransactions(queued);
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_OK(outcomes[0]);
  EXPECT_EQ(outcomes[1].code(), StatusCode::kAlreadyExists) << outcomes[1].ToString();
  EXPECT_OK(outcomes[2]);
  auto row = store_->Get(Table::kExecutions, ExecutionKey("k"));
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->value_or(""), "put");
  auto history = store_->Get(Table::kHistory, HistoryKey("k", 1));
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  EXPECT_FALSE(history->has_value());
}

}  // namespace
}  // namespace papr::storage::testing
