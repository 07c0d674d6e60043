// Cluster mode with real processes (issue 15): three papr-server nodes over one PostgreSQL,
// batches submitted round-robin to all of them, one node killed with SIGKILL in the middle:
// the others take its shards over after the lease TTL and every batch completes with every
// memory stored once and found once by a search on any node. Runs in the PostgreSQL stage (tools/test_postgres.sh).
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cluster/shard_hash.h"
#include "tests/integration/admin_run.h"
#include "tests/integration/api_client.h"
#include "tests/integration/batch_polling.h"
#include "tests/integration/server_process.h"
#include "tests/integration/test_endpoint.h"
#include "tests/storage/pg_harness.h"

namespace papr::integration {
namespace {

using namespace std::chrono_literals;
using storage::testing::PgServer;
using storage::testing::PgSession;

constexpr int kShards = 16;
constexpr int kLeaseTtlMs = 4000;

std::string Token(int batch, int i) { return "b" + std::to_string(batch) + "m" + std::to_string(i) + "x"; }
std::string Content(int batch, int i) { return "cluster note " + Token(batch, i) + " of the fleet"; }

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!InPostgresStage()) GTEST_SKIP() << "runs in the PostgreSQL stage (tools/test_postgres.sh)";
    if (!PgServer::BinariesPresent()) GTEST_SKIP() << "no PostgreSQL binaries";
    ASSERT_TRUE(pg_.Start().ok());
    for (int n = 0; n < 3; ++n) {
      ServerOptions o;
      o.config_file = ConfigPath("cloud.yaml");
      o.extra_yaml =
          "cluster:\n  enabled: true\n  shards: " + std::to_string(kShards) +
          "\n  heartbeat_interval_ms: 300\n  lease_ttl_ms: " + std::to_string(kLeaseTtlMs) +
          "\n  inbox_poll_ms: " + std::to_string(InboxPollMs()) + "\n" + ProcessingYaml();
      o.postgres_url = pg_.Url("postgres");
      if (n > 0) o.postgres_database = nodes_[0]->postgres_database();
      nodes_.push_back(std::make_unique<ServerProcess>(o));
      ASSERT_TRUE(nodes_.back()->Start());
    }
    auto admin = PgSession::Connect(pg_.Url(nodes_[0]->postgres_database()));
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_ = std::move(admin).value();
  }

  virtual std::string ProcessingYaml() const { return ""; }
  virtual int InboxPollMs() const { return 100; }

  ApiClient Api(int n) const { return ApiClient(nodes_[n]->port(), kTestApiKey); }

  // Every batch of `ids` completed with all its memories, read on node `n`.
  void ExpectAllCompleted(int n, const std::vector<std::string>& ids, int per_batch) {
    for (size_t b = 0; b < ids.size(); ++b) {
      Reply end = WaitForEnd(Api(n), ids[b], 300s);
      ASSERT_EQ(end.status, 200) << end.Describe();
      EXPECT_EQ(Str(end.Json()["status"]), "completed") << b << ": " << end.Describe();
      EXPECT_EQ(Int(end.Json()["total_successful"]), per_batch) << b;
    }
  }

  // engine-admin replays every history of the cluster's database without a mismatch.
  void ExpectEveryHistoryReplays(int n) {
    AdminRun replay = RunAdmin({"replay", "--all", "--config", nodes_[n]->config_file()});
    EXPECT_EQ(replay.exit_code, 0) << replay.Describe();
  }

  int64_t Metric(int n, const std::string& name) {
    Reply r = Api(n).Get("/metrics");
    size_t at = r.body.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::stoll(r.body.substr(at + name.size() + 2));
  }

  // True once the nodes `alive` serve all the shards between them, each some.
  bool ShardsServedBy(const std::vector<int>& alive) {
    for (int i = 0; i < 400; ++i) {
      int64_t serving = 0;
      bool each = true;
      for (int n : alive) {
        const int64_t mine = Metric(n, "papr_cluster_shards_serving");
        serving += mine;
        each = each && mine > 0;
      }
      if (serving == kShards && each) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  // Every sampled memory is found exactly once by a search on node `n` (the index writer
  // has taken the queue in; a follower sees it within a few of its polls).
  void ExpectEachFoundOnce(int n, int batches, int per_batch) {
    for (int i = 0; i < 600 && Count("SELECT count(*) FROM index_queue") > 0; ++i) {
      std::this_thread::sleep_for(50ms);
    }
    ASSERT_EQ(Count("SELECT count(*) FROM index_queue"), 0) << "the index writer stopped";
    for (int b = 0; b < batches; ++b) {
      for (int i : {0, per_batch / 2, per_batch - 1}) {
        std::vector<std::string> found = SearchContents(Api(n), Token(b, i));
        for (int wait = 0; wait < 100 && found.empty(); ++wait) {
          std::this_thread::sleep_for(50ms);
          found = SearchContents(Api(n), Token(b, i));
        }
        ASSERT_EQ(found, std::vector<std::string>{Content(b, i)}) << "node " << n;
      }
    }
  }

  int64_t Count(const std::string& sql) {
    auto v = admin_->Query(sql);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? std::stoll(*v) : -1;
  }

  PgServer pg_;
  std::vector<std::unique_ptr<ServerProcess>> nodes_;
  std::unique_ptr<PgSession> admin_;
};

TEST_F(ClusterTest, EveryBatchCompletesOnceWhenANodeIsKilledMidway) {
  ASSERT_TRUE(ShardsServedBy({0, 1, 2}));
  constexpr int kBatches = 30, kPerBatch = 1000;
  std::vector<std::string> ids;
  for (int b = 0; b < kBatches; ++b) {
    if (b == 10) nodes_[0]->Kill9();  // with its shards' batches running
    const int node = b < 10 ? b % 3 : 1 + b % 2;
    ids.push_back(SubmitBatch(Api(node), BatchBody(kPerBatch, [b](int i) { return Content(b, i); })));
    ASSERT_FALSE(ids.back().empty()) << "batch " << b << " on node " << node;
  }
  ASSERT_TRUE(ShardsServedBy({1, 2})) << "the killed node's shards were not taken over";
  ExpectAllCompleted(1, ids, kPerBatch);
  ExpectEveryHistoryReplays(1);
  EXPECT_EQ(Count("SELECT count(*) FROM memories"), kBatches * kPerBatch);  // once each
  EXPECT_EQ(Count("SELECT count(*) FROM inbox"), 0);
  EXPECT_EQ(Metric(1, "papr_cluster_inbox_rows"), 0);
  EXPECT_GT(Metric(1, "papr_engine_inbox_posted_total") + Metric(2, "papr_engine_inbox_posted_total"), 0);
  ExpectEachFoundOnce(1, kBatches, kPerBatch);  // whichever of them writes the index
  ExpectEachFoundOnce(2, kBatches, kPerBatch);

  // The killed node comes back (same node id, from its data dir) and takes a share again.
  ASSERT_TRUE(nodes_[0]->Restart());
  ASSERT_TRUE(ShardsServedBy({0, 1, 2}));
  std::string more = SubmitBatch(Api(0), BatchBody(50, [](int i) { return Content(99, i); }));
  Reply end = WaitForEnd(Api(2), more, 120s);
  EXPECT_EQ(Str(end.Json()["status"]), "completed") << end.Describe();
  EXPECT_EQ(Count("SELECT count(*) FROM memories"), kBatches * kPerBatch + 50);
  ExpectEachFoundOnce(0, kBatches, kPerBatch);  // the rejoined node reads the shared index
}

// SIGTERM hands a node's shards over at once, well inside the lease TTL (the time includes
// the node's own shutdown).
TEST_F(ClusterTest, AStoppedNodeHandsItsShardsOverAtOnce) {
  ASSERT_TRUE(ShardsServedBy({0, 1, 2}));
  const auto stopped = std::chrono::steady_clock::now();
  EXPECT_EQ(nodes_[2]->Terminate(), 0);
  ASSERT_TRUE(ShardsServedBy({0, 1}));
  EXPECT_LT(std::chrono::steady_clock::now() - stopped, std::chrono::milliseconds(kLeaseTtlMs * 3 / 4))
      << "waited for the lease TTL";
}

// Processing takes 100 ms a memory, so a node always has activities in flight.
class ClusterSlowProcessingTest : public ClusterTest {
 protected:
  std::string ProcessingYaml() const override { return endpoint_.ProcessingYaml(); }

  TestEndpoint endpoint_{[](const net::HttpRequest&) {
                           std::this_thread::sleep_for(100ms);
                           return net::HttpResponse::Json(200, "{\"ok\":true}");
                         },
                         64};
};

// A zombie: node 0 is frozen (SIGSTOP) past its lease TTL with activities in flight, the
// others take its shards over, then it is thawed (SIGCONT). Whatever it still tries to commit
// is refused by the fence: every memory is stored once, every batch completes, every history
// replays, and the thawed node drops what it lost and rejoins.
TEST_F(ClusterSlowProcessingTest, AFrozenNodesLateCommitsNeverLand) {
  ASSERT_TRUE(ShardsServedBy({0, 1, 2}));
  constexpr int kBatches = 24, kPerBatch = 100;  // some batches on node 0's shards, surely
  std::vector<std::string> ids;
  for (int b = 0; b < kBatches; ++b) {
    ids.push_back(SubmitBatch(Api(b % 3), BatchBody(kPerBatch, [b](int i) { return Content(b, i); })));
    ASSERT_FALSE(ids.back().empty()) << b;
  }
  std::this_thread::sleep_for(500ms);  // node 0's calls are under way
  nodes_[0]->Signal(SIGSTOP);
  ASSERT_TRUE(ShardsServedBy({1, 2})) << "the frozen node's shards were not taken over";
  std::this_thread::sleep_for(500ms);  // the new owners run node 0's batches again
  nodes_[0]->Signal(SIGCONT);
  ExpectAllCompleted(1, ids, kPerBatch);
  EXPECT_EQ(Count("SELECT count(*) FROM memories"), kBatches * kPerBatch);  // once each
  ASSERT_TRUE(ShardsServedBy({0, 1, 2})) << "the thawed node did not rejoin";
  EXPECT_GT(Metric(0, "papr_cluster_shard_losses_total"), 0);
  // Late commits refused by the fence (the node may also have noticed first, and dropped them).
  RecordProperty("fencing_rejections", std::to_string(Metric(0, "papr_engine_fencing_rejections_total")));
  ExpectEveryHistoryReplays(0);
  ExpectEachFoundOnce(0, kBatches, kPerBatch);
  ExpectEachFoundOnce(2, kBatches, kPerBatch);
}

// What an operator sees: GET /v1/admin/cluster on any node and engine-admin nodes / shards
// show the live nodes, every shard held by one of them, and the open executions; a node that
// stopped leaves the list and its shards go to the others.
TEST_F(ClusterSlowProcessingTest, OperatorsSeeTheNodesShardsAndOpenExecutions) {
  ASSERT_TRUE(ShardsServedBy({0, 1, 2}));
  // About 12 s of processing: it runs while the views are read, then it is cancelled.
  std::string id = SubmitBatch(Api(0), BatchBody(2000, [](int i) { return Content(0, i); }));
  ASSERT_FALSE(id.empty());
  // Running on its owner (a start posted by node 0 is applied within the inbox poll).
  Reply running = PollStatus(
      Api(0), id, [](const Reply& r) { return Int(r.Json()["request_counts"]["succeeded"]) > 0; },
      60s);
  ASSERT_EQ(running.status, 200) << running.Describe();
  // Every shard held by a live node (shards may still be moving right after a change).
  auto settled = [](simdjson::dom::element view) {
    std::set<std::string> live;
    for (auto node : view["nodes"].get_array()) {
      if (node["live"].get_bool().value()) live.insert(Str(node["node_id"]));
    }
    for (auto shard : view["shards"].get_array()) {
      if (shard["owner"].is_null() || !live.contains(Str(shard["owner"]))) return false;
    }
    return true;
  };
  auto check = [&](simdjson::dom::element view, size_t live_nodes, const std::string& source) {
    EXPECT_EQ(Int(view["shard_count"]), kShards) << source;
    EXPECT_TRUE(settled(view)) << source;
    size_t live = 0;
    int64_t owned = 0;
    for (auto node : view["nodes"].get_array()) {
      live += node["live"].get_bool().value() ? 1 : 0;
      owned += Int(node["shards_owned"]);
    }
    EXPECT_EQ(live, live_nodes) << source;
    EXPECT_EQ(owned, kShards) << source;
    int64_t open = 0, shards = 0;
    for (auto shard : view["shards"].get_array()) {
      ++shards;
      EXPECT_GT(Int(shard["range_id"]), 0) << source;
      EXPECT_GT(Int(shard["lease_remaining_ms"]), 0) << source;
      open += Int(shard["open_executions"]);
      EXPECT_EQ(Int(shard["inbox_rows"]), 0) << source;  // applied
    }
    EXPECT_EQ(shards, kShards) << source;
    EXPECT_GE(open, 1) << source << ": the batch runs";
  };
  auto view_on = [&](int n) {
    Reply r = Api(n).Get("/v1/admin/cluster");
    for (int i = 0; i < 100 && r.status == 200 && !settled(r.Json()); ++i) {
      std::this_thread::sleep_for(50ms);
      r = Api(n).Get("/v1/admin/cluster");
    }
    return r;
  };
  for (int n = 0; n < 3; ++n) {
    Reply r = view_on(n);
    ASSERT_EQ(r.status, 200) << r.Describe();
    check(r.Json(), 3, "node " + std::to_string(n));
  }
  for (const char* command : {"nodes", "shards"}) {
    AdminRun run = RunAdmin({command, "--json", "--config", nodes_[1]->config_file()});
    ASSERT_EQ(run.exit_code, 0) << run.Describe();
    check(run.Json(), 3, std::string("engine-admin ") + command);
  }
  AdminRun text = RunAdmin({"shards", "--config", nodes_[1]->config_file()});
  ASSERT_EQ(text.exit_code, 0) << text.Describe();
  EXPECT_NE(text.out.find("RANGE_ID"), std::string::npos) << text.out;
  EXPECT_EQ(nodes_[2]->Terminate(), 0);
  ASSERT_TRUE(ShardsServedBy({0, 1}));
  Reply after = view_on(0);
  ASSERT_EQ(after.status, 200) << after.Describe();
  check(after.Json(), 2, "after node 2 stopped");
  Reply cancel = Api(1).Post("/v1/memory/batch/" + id + "/cancel", "");
  ASSERT_TRUE(cancel.status == 200 || cancel.status == 202) << cancel.Describe();
  EXPECT_EQ(WaitForState(Api(1), id, {"cancelled"}, 60s), "cancelled");
}

// Any node takes a cancel: sent to a node that does not run the batch, it is posted to the
// inbox of the batch's shard and applied by the owner; the batch ends canceled.
TEST_F(ClusterSlowProcessingTest, ACancelSentToAnotherNodeReachesTheBatch) {
  ASSERT_TRUE(ShardsServedBy({0, 1, 2}));
  std::string id = SubmitBatch(Api(0), BatchBody(600, [](int i) { return Content(7, i); }));
  ASSERT_FALSE(id.empty());
  Reply view = Api(0).Get("/v1/admin/cluster");
  ASSERT_EQ(view.status, 200) << view.Describe();
  const int64_t shard = cluster::ShardOf(id, kShards);
  std::string owner;
  for (auto s : view.Json()["shards"].get_array()) {
    if (Int(s["shard"]) == shard) owner = Str(s["owner"]);
  }
  int other = -1;
  for (int n = 0; n < 3 && other < 0; ++n) {
    std::string node_id = ReadTextFile(nodes_[n]->data_dir() + "/node_id");
    if (!node_id.empty() && node_id.back() == '\n') node_id.pop_back();
    if (node_id != owner) other = n;
  }
  ASSERT_GE(other, 0) << "owner " << owner;
  const int64_t posted = Metric(other, "papr_engine_inbox_posted_total");
  Reply cancel = Api(other).Post("/v1/memory/batch/" + id + "/cancel", "");
  ASSERT_TRUE(cancel.status == 200 || cancel.status == 202) << cancel.Describe();
  EXPECT_EQ(Metric(other, "papr_engine_inbox_posted_total"), posted + 1);
  EXPECT_EQ(WaitForState(Api(other), id, {"cancelled"}, 60s), "cancelled");
  EXPECT_EQ(Count("SELECT count(*) FROM inbox"), 0);
}

// A user may have two open batches, across the cluster.
class ClusterUserLimitTest : public ClusterSlowProcessingTest {
 protected:
  std::string ProcessingYaml() const override {
    return ClusterSlowProcessingTest::ProcessingYaml() + "limits:\n  max_open_batches_per_user: 2\n";
  }
};

// Per-user limits hold across the cluster: with two open batches on nodes 0 and 1, a third
// sent to node 2 is refused (429); once one of them ends, it is admitted.
TEST_F(ClusterUserLimitTest, AUsersOpenBatchLimitCountsBatchesOnEveryNode) {
  ASSERT_TRUE(ShardsServedBy({0, 1, 2}));
  // Node 2 admits a batch first (it counts the open batches it finds once, at its first).
  std::string early = SubmitBatch(Api(2), BatchBody(1, [](int i) { return Content(19, i); }));
  ASSERT_EQ(WaitForState(Api(2), early, {"completed"}, 60s), "completed");
  std::vector<std::string> open;
  for (int n = 0; n < 2; ++n) {
    open.push_back(SubmitBatch(Api(n), BatchBody(600, [n](int i) { return Content(20 + n, i); })));
    ASSERT_FALSE(open.back().empty());
    Reply running = PollStatus(
        Api(n), open.back(),
        [](const Reply& r) { return Int(r.Json()["request_counts"]["succeeded"]) > 0; }, 60s);
    ASSERT_EQ(running.status, 200) << running.Describe();
  }
  const std::string third = BatchBody(10, [](int i) { return Content(22, i); });
  Reply refused = Api(2).Post("/v1/memory/batch", third);
  EXPECT_TRUE(IsErrorEnvelope(refused, 429)) << refused.Describe();
  EXPECT_NE(refused.body.find("max_open_batches_per_user"), std::string::npos) << refused.body;
  Reply cancel = Api(2).Post("/v1/memory/batch/" + open[0] + "/cancel", "");
  ASSERT_TRUE(cancel.status == 200 || cancel.status == 202) << cancel.Describe();
  ASSERT_EQ(WaitForState(Api(2), open[0], {"cancelled"}, 60s), "cancelled");
  std::string admitted = SubmitBatch(Api(2), third);
  EXPECT_FALSE(admitted.empty());
  Reply stop = Api(1).Post("/v1/memory/batch/" + open[1] + "/cancel", "");
  EXPECT_TRUE(stop.status == 200 || stop.status == 202) << stop.Describe();
}

// The inbox is read once a minute here: a posted start is applied at once all the same,
// because its commit notifies the owner (LISTEN/NOTIFY).
class ClusterNotifyTest : public ClusterTest {
 protected:
  int InboxPollMs() const override { return 60000; }
};

TEST_F(ClusterNotifyTest, APostedStartIsAppliedAtOnceWithoutWaitingForThePoll) {
  ASSERT_TRUE(ShardsServedBy({0, 1, 2}));
  std::vector<std::pair<int, std::string>> ids;
  for (int b = 0; b < 9; ++b) {
    ids.emplace_back(b % 3, SubmitBatch(Api(b % 3), BatchBody(10, [b](int i) { return Content(30 + b, i); })));
    ASSERT_FALSE(ids.back().second.empty());
  }
  int64_t posted = 0;
  for (int n = 0; n < 3; ++n) posted += Metric(n, "papr_engine_inbox_posted_total");
  ASSERT_GT(posted, 0) << "no start was posted: nothing to check";
  for (const auto& [node, id] : ids) {
    EXPECT_EQ(WaitForState(Api(node), id, {"completed"}, 20s), "completed") << id;
  }
  EXPECT_EQ(Count("SELECT count(*) FROM inbox"), 0);
}

// ?wait= on a node that does not run the batch answers when the batch ends, not at the next
// poll (a minute away): the owner's closing commit announces it (NOTIFY papr_closed).
TEST_F(ClusterNotifyTest, AWaitOnAnotherNodeAnswersWhenTheBatchEndsWithoutWaitingForThePoll) {
  ASSERT_TRUE(ShardsServedBy({0, 1, 2}));
  std::vector<std::future<Reply>> replies;
  for (int b = 0; b < 9; ++b) {
    replies.push_back(std::async(std::launch::async, [this, b] {
      return Api(b % 3).Post("/v1/memory/batch?wait=20",
                             BatchBody(10, [b](int i) { return Content(60 + b, i); }));
    }));
  }
  for (auto& reply : replies) {
    Reply r = reply.get();
    EXPECT_EQ(r.status, 200) << r.Describe();
    EXPECT_NE(r.body.find("\"total_successful\":10"), std::string::npos) << r.body;
  }
  int64_t posted = 0;
  for (int n = 0; n < 3; ++n) posted += Metric(n, "papr_engine_inbox_posted_total");
  EXPECT_GT(posted, 0) << "every batch ran where it was sent: nothing was followed remotely";
}

}  // namespace
}  // namespace papr::integration
