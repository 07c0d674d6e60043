// Two engines on one PostgreSQL database (two nodes), fenced by a shard lease: when the shard
// changes hands, the new owner resumes the execution from the store and the old owner's late
// commit is refused by the fence, so the history is the new owner's alone.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "cluster/membership.h"
#include "cluster/shard_hash.h"
#include "cluster/shard_table.h"
#include "engine/engine.h"
#include "engine/inbox_rows.h"
#include "engine/workflow.h"
#include "engine/workflow_context.h"
#include "storage/keys.h"
#include "tests/storage/store_fixture.h"

namespace papr::storage::testing {
namespace {

using engine::ActivityCall;
using engine::ActivityResult;
using engine::Engine;
using engine::EventType;
using engine::WorkflowContext;
using engine::WorkflowEvent;
using engine::WorkflowOutcome;
using engine::WorkflowTask;
using std::chrono::milliseconds;

// Two activities, one after the other.
WorkflowTask TwoSteps(WorkflowContext& ctx, std::string) {
  for (int64_t step = 0; step < 2; ++step) {
    ctx.StartActivity("step", std::to_string(step), {}, step);
    while (true) {
      WorkflowEvent ev = co_await ctx.NextEvent();
      if (ev.kind == WorkflowEvent::Kind::kActivity) break;
    }
  }
  co_return WorkflowOutcome::Completed("both");
}

// Waits for one signal.
WorkflowTask Waiter(WorkflowContext& ctx, std::string) {
  while (true) {
    WorkflowEvent ev = co_await ctx.NextEvent();
    if (ev.kind == WorkflowEvent::Kind::kSignal) break;
  }
  co_return WorkflowOutcome::Completed("signalled");
}

class EngineShardTest : public StoreFixture, public ::testing::Test {
 protected:
  void SetUp() override { OpenStore(Backend::kPostgres); }

  static bool WaitFor(const std::function<bool()>& done) {
    for (int i = 0; i < 1000; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return false;
  }
};

TEST_F(EngineShardTest, TheNewOwnerFinishesTheExecutionAndTheOldOwnersLateCommitIsFenced) {
  Store* store_a = store_.get();
  auto db_a = Db::OpenOnStore(std::move(store_));
  ASSERT_TRUE(db_a.ok()) << db_a.status().ToString();
  std::unique_ptr<PostgresStore> node_b = OpenPgNode();
  Store* store_b = node_b.get();
  auto db_b = Db::OpenOnStore(std::move(node_b));
  ASSERT_TRUE(db_b.ok()) << db_b.status().ToString();

  auto lease_a = store_a->AcquireShard(0, "node-a", milliseconds(0));  // lapses at once
  ASSERT_TRUE(lease_a.ok()) << lease_a.status().ToString();
  engine::EngineOptions options_a;
  options_a.fence_of = [&](const std::string&) { return std::optional<Fence>(lease_a->fence()); };
  Engine a(db_a->get(), options_a);
  std::promise<void> a_step_started, release_a_step;
  std::shared_future<void> released = release_a_step.get_future().share();
  a.RegisterWorkflow("two_steps", TwoSteps);
  a.RegisterActivity("step", [&](const ActivityCall&) {
    a_step_started.set_value();
    released.wait();  // node a freezes in its first step
    return ActivityResult::Ok("from a");
  });
  ASSERT_OK(a.Start());
  engine::StartOptions start;
  start.workflow_id = "wf-1";
  start.workflow_type = "two_steps";
  ASSERT_OK(a.StartWorkflow(start));
  a_step_started.get_future().wait();

  // Node b takes the shard over (range_id 2) and resumes the execution from the store.
  auto lease_b = store_b->AcquireShard(0, "node-b", milliseconds(60000));
  ASSERT_TRUE(lease_b.ok()) << lease_b.status().ToString();
  EXPECT_EQ(lease_b->range_id, lease_a->range_id + 1);
  engine::EngineOptions options_b;
  options_b.fence_of = [&](const std::string&) { return std::optional<Fence>(lease_b->fence()); };
  Engine b(db_b->get(), options_b);
  b.RegisterWorkflow("two_steps", TwoSteps);
  b.RegisterActivity("step", [](const ActivityCall&) { return ActivityResult::Ok("from b"); });
  ASSERT_OK(b.Start());
  ASSERT_TRUE(WaitFor([&] {
    auto r = b.Describe("wf-1");
    return r.ok() && r->status == engine::ExecutionStatus::kCompleted;
  }));

  // Node a wakes up: its step's completion commit is refused, and nothing of it lands.
  release_a_step.set_value();
  ASSERT_TRUE(WaitFor([&] {
    return a.MetricsText().find("papr_engine_commit_failures_total 1") != std::string::npos;
  })) << a.MetricsText();
  auto history = b.ReadHistory("wf-1");
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  int completions = 0, closes = 0;
  for (const auto& event : *history) {
    if (event.type == EventType::kActivityTaskCompleted) {
      ++completions;
      EXPECT_EQ(event.payload, "from b") << event.event_id;
    }
    if (event.type == EventType::kWorkflowExecutionCompleted) ++closes;
  }
  EXPECT_EQ(completions, 2);
  EXPECT_EQ(closes, 1);
  // a no longer runs it: the execution a request finds is the stored, completed one.
  auto seen_by_a = a.Describe("wf-1");
  ASSERT_TRUE(seen_by_a.ok()) << seen_by_a.status().ToString();
  EXPECT_EQ(seen_by_a->status, engine::ExecutionStatus::kCompleted);
  a.Shutdown();
  b.Shutdown();
}

// An engine runs only what its node owns: nothing of an unowned shard at Start, the shard's
// open executions once it is acquired (ResumeWhere), nothing more of one it let go (DropWhere).
TEST_F(EngineShardTest, AShardIsResumedWhenAcquiredAndForgottenWhenLetGo) {
  Store* store = store_.get();
  auto db = Db::OpenOnStore(std::move(store_));
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto lease = store->AcquireShard(0, "node-a", milliseconds(60000));
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  std::atomic<bool> owned{true};
  engine::EngineOptions options;
  options.fence_of = [&](const std::string&) {
    return owned ? std::optional<Fence>(lease->fence()) : std::nullopt;
  };
  auto start = [](Engine& e, const std::string& id) {
    engine::StartOptions o;
    o.workflow_id = id;
    o.workflow_type = "waiter";
    return e.StartWorkflow(std::move(o));
  };
  {
    Engine first(db->get(), options);
    first.RegisterWorkflow("waiter", Waiter);
    ASSERT_OK(first.Start());
    ASSERT_OK(start(first, "wf-2"));
    first.Shutdown();
  }
  owned = false;
  Engine node(db->get(), options);
  node.RegisterWorkflow("waiter", Waiter);
  ASSERT_OK(node.Start());
  EXPECT_FALSE(node.SubscribeOnce("wf-2", [] {}));  // open on disk, not run here
  EXPECT_EQ(start(node, "wf-x").code(), StatusCode::kOwnershipLost);

  owned = true;
  auto resumed = node.ResumeWhere([](const std::string& id) { return id == "wf-2"; });
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(*resumed, 1u);
  ASSERT_OK(node.Signal("wf-2", "go", ""));
  ASSERT_TRUE(WaitFor([&] {
    auto r = node.Describe("wf-2");
    return r.ok() && r->status == engine::ExecutionStatus::kCompleted;
  }));

  ASSERT_OK(start(node, "wf-3"));
  EXPECT_EQ(node.DropWhere([](const std::string& id) { return id == "wf-3"; }), 1u);
  owned = false;
  EXPECT_FALSE(node.Signal("wf-3", "go", "").ok());
  auto record = node.Describe("wf-3");
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ(record->status, engine::ExecutionStatus::kRunning);  // left for the shard's owner
  node.Shutdown();
}

// Any node takes any start: one for a shard owned elsewhere is posted to the shard's inbox,
// reads on the posting node answer it at once, and the owner applies it exactly once (the row
// goes with the start's commit; a row whose execution exists already is just deleted).
TEST_F(EngineShardTest, AStartForAShardOwnedElsewhereIsPostedThenAppliedOnceByItsOwner) {
  Store* store_a = store_.get();
  auto db_a = Db::OpenOnStore(std::move(store_));
  ASSERT_TRUE(db_a.ok());
  auto db_b = Db::OpenOnStore(OpenPgNode());
  ASSERT_TRUE(db_b.ok());
  auto lease = store_a->AcquireShard(0, "node-a", milliseconds(60000));
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  engine::EngineOptions options_a, options_b;
  options_a.fence_of = [&](const std::string&) { return std::optional<Fence>(lease->fence()); };
  options_b.fence_of = [](const std::string&) { return std::optional<Fence>(); };
  options_a.shard_of = options_b.shard_of = [](const std::string&) { return 0u; };
  Engine a(db_a->get(), options_a), b(db_b->get(), options_b);
  for (Engine* e : {&a, &b}) {
    e->RegisterWorkflow("waiter", Waiter);
    ASSERT_OK(e->Start());
  }
  auto inbox_rows = [&] {
    size_t rows = 0;
    EXPECT_OK((*db_a)->ScanPrefix(Table::kInbox, "", [&](std::string_view, std::string_view) {
      return ++rows, true;
    }));
    return rows;
  };
  engine::StartOptions start;
  start.workflow_id = "wf-posted";
  start.workflow_type = "waiter";
  start.input = "the input";
  start.owner = "user-1";
  start.blobs = {{"blob", "blob bytes"}};
  ASSERT_OK(b.StartWorkflow(start));
  EXPECT_EQ(inbox_rows(), 1u);
  EXPECT_EQ(b.StartWorkflow(start).code(), StatusCode::kAlreadyExists);  // posted already
  auto posted = b.Describe("wf-posted");
  ASSERT_TRUE(posted.ok()) << posted.status().ToString();
  EXPECT_EQ(posted->status, engine::ExecutionStatus::kRunning);
  EXPECT_EQ(posted->owner, "user-1");
  auto first = b.ReadHistory("wf-posted", 0, 1);
  ASSERT_TRUE(first.ok() && first->size() == 1u);
  EXPECT_EQ(first->front().payload, "the input");
  std::atomic<int> changes{0};
  EXPECT_TRUE(b.SubscribeOnce("wf-posted", [&] { changes++; }));  // followed in the store

  auto applied = a.DrainInbox(0);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(*applied, 1u);
  EXPECT_EQ(inbox_rows(), 0u);
  EXPECT_EQ(*a.DrainInbox(0), 0u);
  auto blob = a.ReadBlob("wf-posted", "blob");
  ASSERT_TRUE(blob.ok() && blob->has_value());
  EXPECT_EQ(**blob, "blob bytes");
  // A signal sent to the node that does not run it is posted too, and applied once by the
  // owner in the transition that records it.
  ASSERT_OK(b.Signal("wf-posted", "go", ""));
  EXPECT_EQ(inbox_rows(), 1u);
  EXPECT_EQ(*a.DrainInbox(0), 1u);
  EXPECT_EQ(inbox_rows(), 0u);
  EXPECT_EQ(*a.DrainInbox(0), 0u);
  ASSERT_TRUE(WaitFor([&] {
    b.PollRemote();
    return changes.load() == 1;
  }));
  ASSERT_TRUE(WaitFor([&] {
    auto r = b.Describe("wf-posted");
    return r.ok() && r->status == engine::ExecutionStatus::kCompleted;
  }));
  auto events = a.ReadHistory("wf-posted");
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(
      std::count_if(events->begin(), events->end(),
                    [](const auto& e) { return e.type == EventType::kWorkflowExecutionSignaled; }),
      1);
  // Closed: a request for it is refused at once on any node, and nothing is posted.
  EXPECT_EQ(b.Terminate("wf-posted", "late").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(inbox_rows(), 0u);
  EXPECT_EQ(b.StartWorkflow(start).code(), StatusCode::kAlreadyExists);

  // A row left over for an execution that exists (posted twice, or applied before a crash).
  WriteBatch stale;
  stale.Put(Table::kInbox, InboxStartKey(0, "wf-posted"), engine::EncodePostedStart(start, 1));
  ASSERT_OK((*db_a)->Write(stale));
  EXPECT_EQ(*a.DrainInbox(0), 1u);
  EXPECT_EQ(inbox_rows(), 0u);
  auto history = a.ReadHistory("wf-posted");
  ASSERT_TRUE(history.ok());
  int starts = 0;
  for (const auto& event : *history) starts += event.type == EventType::kWorkflowExecutionStarted;
  EXPECT_EQ(starts, 1);
  EXPECT_NE(a.MetricsText().find("papr_engine_inbox_applied_total 2"), std::string::npos);
  EXPECT_NE(b.MetricsText().find("papr_engine_inbox_posted_total 2"), std::string::npos);
  a.Shutdown();
  b.Shutdown();
}

// Retention in cluster mode: a node sweeps only the shards it owns, each root's deletion
// fenced, so a node whose lease another took deletes nothing.
TEST_F(EngineShardTest, RetentionSweepsOnlyOwnedShardsAndAStaleOwnerDeletesNothing) {
  Store* store = store_.get();
  auto db = Db::OpenOnStore(std::move(store_));
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto lease = store->AcquireShard(0, "node-a", milliseconds(60000));
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  std::mutex mu;
  std::optional<Fence> fence = lease->fence();
  engine::EngineOptions options;
  options.fence_of = [&](const std::string&) {
    std::lock_guard lock(mu);
    return fence;
  };
  auto set_fence = [&](std::optional<Fence> f) {
    std::lock_guard lock(mu);
    fence = f;
  };
  options.retention_ms = 1;
  Engine e(db->get(), options);
  e.RegisterWorkflow("waiter", Waiter);
  ASSERT_OK(e.Start());
  engine::StartOptions o;
  o.workflow_id = "wf-old";
  o.workflow_type = "waiter";
  ASSERT_OK(e.StartWorkflow(o));
  ASSERT_OK(e.Signal("wf-old", "go", ""));
  ASSERT_TRUE(WaitFor([&] {
    auto r = e.Describe("wf-old");
    return r.ok() && r->status == engine::ExecutionStatus::kCompleted;
  }));
  std::this_thread::sleep_for(milliseconds(20));  // past retention

  set_fence(std::nullopt);  // not this node's shard
  auto skipped = e.SweepRetention();
  ASSERT_TRUE(skipped.ok()) << skipped.status().ToString();
  EXPECT_EQ(*skipped, 0);
  ASSERT_OK(store->ReleaseShard(*lease));
  auto taken = store->AcquireShard(0, "node-b", milliseconds(60000));  // another node's now
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  set_fence(lease->fence());  // what a node that has not noticed yet still holds
  EXPECT_EQ(e.SweepRetention().status().code(), StatusCode::kOwnershipLost);
  EXPECT_TRUE(e.Describe("wf-old").ok());  // nothing deleted
  set_fence(taken->fence());
  auto swept = e.SweepRetention();
  ASSERT_TRUE(swept.ok()) << swept.status().ToString();
  EXPECT_EQ(*swept, 1);
  EXPECT_TRUE(e.Describe("wf-old").status().IsNotFound());
  e.Shutdown();
}

//! A cluster node as the server composes it: membership, shard table, engine.
struct ClusterNode {
  static constexpr uint32_t kShards = 16;
  ClusterNode(std::unique_ptr<Db> node_db, Store* store, const std::string& id)
      : db(std::move(node_db)), table(kShards) {
    engine::EngineOptions options;
    options.fence_of = [this](const std::string& wf) { return table.FenceOf(wf); };
    engine = std::make_unique<Engine>(db.get(), options);
    engine->RegisterWorkflow("waiter", Waiter);
    auto in = [](uint32_t shard) {
      return [shard](const std::string& wf) { return cluster::ShardOf(wf, kShards) == shard; };
    };
    table.SetHooks({[this, in](uint32_t s) { EXPECT_TRUE(engine->ResumeWhere(in(s)).ok()); },
                    [this, in](uint32_t s) { engine->DropWhere(in(s)); }});
    cluster::MembershipOptions m;
    m.node = NodeInfo{id, "127.0.0.1:0"};
    m.shards = kShards;
    m.lease_ttl = milliseconds(800);
    membership = std::make_unique<cluster::Membership>(store, m, &table);
  }
  bool Runs(const std::string& wf) { return table.FenceOf(wf).has_value(); }

  std::unique_ptr<Db> db;
  cluster::ShardTable table;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<cluster::Membership> membership;
};

// Two nodes split the shards; executions move with their shard on a join and, after the TTL,
// away from a node that died; each completes once, run by its shard's owner.
TEST_F(EngineShardTest, ExecutionsFollowTheirShardsAcrossAJoinAndADeath) {
  Store* store_a = store_.get();
  auto db_a = Db::OpenOnStore(std::move(store_));
  ASSERT_TRUE(db_a.ok());
  std::unique_ptr<PostgresStore> pg_b = OpenPgNode();
  Store* store_b = pg_b.get();
  auto db_b = Db::OpenOnStore(std::move(pg_b));
  ASSERT_TRUE(db_b.ok());
  ClusterNode a(std::move(*db_a), store_a, "node-a");
  ClusterNode b(std::move(*db_b), store_b, "node-b");
  ASSERT_OK(a.engine->Start());
  ASSERT_OK(b.engine->Start());
  ASSERT_OK(a.membership->Tick());
  ASSERT_EQ(a.table.OwnedCount(), ClusterNode::kShards);
  auto start = [](ClusterNode& node, const std::string& wf) {
    engine::StartOptions o;
    o.workflow_id = wf;
    o.workflow_type = "waiter";
    return node.engine->StartWorkflow(std::move(o));
  };
  for (int i = 0; i < 20; ++i) ASSERT_OK(start(a, "wf-" + std::to_string(i)));

  ASSERT_OK(b.membership->Tick());  // b joins; a hands b's shards over; b resumes them
  ASSERT_OK(a.membership->Tick());
  ASSERT_OK(b.membership->Tick());
  ASSERT_GT(b.table.OwnedCount(), 0u);
  ASSERT_EQ(a.table.OwnedCount() + b.table.OwnedCount(), ClusterNode::kShards);
  int on_b = 0;
  for (int i = 0; i < 20; ++i) {
    std::string wf = "wf-" + std::to_string(i);
    ClusterNode& owner = a.Runs(wf) ? a : b;
    ClusterNode& other = a.Runs(wf) ? b : a;
    on_b += &owner == &b ? 1 : 0;
    EXPECT_FALSE(other.engine->SubscribeOnce(wf, [] {})) << wf;
    if (i % 2 == 0) EXPECT_OK(owner.engine->Signal(wf, "go", ""));  // the even ones end now
  }
  EXPECT_GT(on_b, 0);

  // a dies (stops ticking; its engine lingers as a zombie); after the TTL b takes everything.
  std::this_thread::sleep_for(milliseconds(1200));
  ASSERT_OK(b.membership->Tick());
  ASSERT_EQ(b.table.OwnedCount(), ClusterNode::kShards);
  for (int i = 1; i < 20; i += 2) EXPECT_OK(b.engine->Signal("wf-" + std::to_string(i), "go", ""));
  for (int i = 0; i < 20; ++i) {
    std::string wf = "wf-" + std::to_string(i);
    ASSERT_TRUE(WaitFor([&] {
      auto r = b.engine->Describe(wf);
      return r.ok() && r->status == engine::ExecutionStatus::kCompleted;
    })) << wf;
    auto history = b.engine->ReadHistory(wf);
    ASSERT_TRUE(history.ok()) << wf << ": " << history.status().ToString();
    int starts = 0, closes = 0, signals = 0;
    for (const auto& event : *history) {
      starts += event.type == EventType::kWorkflowExecutionStarted ? 1 : 0;
      closes += event.type == EventType::kWorkflowExecutionCompleted ? 1 : 0;
      signals += event.type == EventType::kWorkflowExecutionSignaled ? 1 : 0;
    }
    EXPECT_EQ(starts, 1) << wf;
    EXPECT_EQ(signals, 1) << wf;
    EXPECT_EQ(closes, 1) << wf;
  }
  a.engine->Shutdown();
  b.engine->Shutdown();
}

}  // namespace
}  // namespace papr::storage::testing
