// A commit the store did not take (unreachable) or whose outcome is unknown (the connection died
// during COMMIT) does not stop the execution until a restart: the engine rebuilds it from the
// store and it completes, each activity recorded exactly once.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "engine/engine.h"
#include "engine/workflow_context.h"
#include "storage/db.h"
#include "tests/engine/engine_test_support.h"
#include "tests/engine/test_printers.h"
#include "tests/storage/temp_dir.h"

namespace papr::engine {
namespace {

using namespace std::chrono_literals;

// Runs `input` "step" activities one after another; completes with how many it ran.
WorkflowTask OneByOne(WorkflowContext& ctx, std::string input) {
  const int64_t n = std::stoll(input);
  for (int64_t i = 0; i < n; ++i) {
    ctx.StartActivity("step", std::to_string(i), {}, i);
    WorkflowEvent ev = co_await ctx.NextEvent();
    while (ev.kind != WorkflowEvent::Kind::kActivity) ev = co_await ctx.NextEvent();
  }
  co_return WorkflowOutcome::Completed(std::to_string(n));
}

// Starts child "<id>/child" (one step, which closes it) and completes when it closed.
WorkflowTask ParentOfOne(WorkflowContext& ctx, std::string) {
  ctx.StartChildWorkflow(ctx.workflow_id() + "/child", "one_by_one", "1");
  WorkflowEvent ev = co_await ctx.NextEvent();
  while (ev.kind != WorkflowEvent::Kind::kChild) ev = co_await ctx.NextEvent();
  co_return WorkflowOutcome::Completed(ev.error.empty() ? "child completed" : "child: " + ev.error);
}

class EngineRebuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::DbOptions o;
    o.path = dir_.path() / "db";
    auto db = storage::Db::Open(o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    EngineOptions eo;
    eo.activity_workers = 2;
    eo.runner_threads = 2;
    engine_ = std::make_unique<Engine>(db_.get(), eo);
    engine_->RegisterWorkflow("one_by_one", OneByOne);
    engine_->RegisterWorkflow("parent", ParentOfOne);
    engine_->RegisterActivity("step", [this](const ActivityCall& call) {
      {
        std::lock_guard lock(mu_);
        calls_[call.workflow_id + "#" + std::to_string(call.activity_id)]++;
      }
      if (call.activity_id == gated_activity_) gate_.Pass();
      return ActivityResult::Ok("");
    });
    ASSERT_TRUE(engine_->Start().ok());
  }
  void TearDown() override {
    gate_.Open();
    engine_.reset();
    db_.reset();
  }

  Status StartTyped(const std::string& id, const std::string& type, const std::string& input) {
    StartOptions o;
    o.workflow_id = id;
    o.workflow_type = type;
    o.input = input;
    return engine_->StartWorkflow(std::move(o));
  }

  // Holds activity `activity_id` until the fault is armed, so the fault hits its commit.
  void FailCommitOfActivity(bool applied) {
    gate_.WaitForWaiter();
    db_->InjectLostConnectionForTest(applied);
    gate_.Open();
  }

  ExecutionRecord WaitClosed(const std::string& id) { return engine::WaitClosed(*engine_, id, 15s); }

  // Activity id -> how many ActivityTaskCompleted events the history of `id` has for it.
  std::map<int64_t, int> CompletedEvents(const std::string& id) {
    std::map<int64_t, int> out;
    auto history = engine_->ReadHistory(id);
    EXPECT_TRUE(history.ok()) << history.status().ToString();
    if (!history.ok()) return out;
    for (const auto& e : *history) {
      if (e.type == EventType::kActivityTaskCompleted) out[e.activity_id]++;
    }
    return out;
  }

  int Calls(const std::string& id, int64_t activity_id) {
    std::lock_guard lock(mu_);
    return calls_[id + "#" + std::to_string(activity_id)];
  }

  bool MetricsHave(const std::string& line) {
    return engine_->MetricsText().find(line + "\n") != std::string::npos;
  }

  storage::testing::TempDir dir_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<Engine> engine_;
  Gate gate_;
  int64_t gated_activity_ = 2;
  std::mutex mu_;
  std::map<std::string, int> calls_;
};

const std::map<int64_t, int> kEachOfFiveOnce{{0, 1}, {1, 1}, {2, 1}, {3, 1}, {4, 1}};

// Nothing of the failed commit was applied: the rebuilt execution runs activity 2 again.
TEST_F(EngineRebuildTest, CommitThatNeverReachedTheStoreIsRebuiltAndCompletes) {
  ASSERT_TRUE(StartTyped("w", "one_by_one", "5").ok());
  FailCommitOfActivity(/*applied=*/false);
  ExecutionRecord r = WaitClosed("w");
  EXPECT_EQ(r.status, ExecutionStatus::kCompleted);
  EXPECT_EQ(r.result, "5");
  EXPECT_EQ(CompletedEvents("w"), kEachOfFiveOnce);
  EXPECT_EQ(Calls("w", 2), 2);  // its first result was lost with the commit
  EXPECT_EQ(Calls("w", 3), 1);
  EXPECT_TRUE(MetricsHave("papr_engine_commit_failures_total 1"));
  EXPECT_TRUE(MetricsHave("papr_engine_rebuilt_workflows_total 1"));
  EXPECT_TRUE(MetricsHave("papr_engine_rebuilds_pending 0"));
}

// The commit was applied but reported lost: the rebuild reads it back, so activity 2 is
// neither run again nor recorded twice.
TEST_F(EngineRebuildTest, CommitWithUnknownOutcomeIsReadBackNotRepeated) {
  ASSERT_TRUE(StartTyped("w", "one_by_one", "5").ok());
  FailCommitOfActivity(/*applied=*/true);
  ExecutionRecord r = WaitClosed("w");
  EXPECT_EQ(r.status, ExecutionStatus::kCompleted);
  EXPECT_EQ(CompletedEvents("w"), kEachOfFiveOnce);
  EXPECT_EQ(Calls("w", 2), 1);
  EXPECT_TRUE(MetricsHave("papr_engine_rebuilt_workflows_total 1"));
}

// A request whose commit is lost answers Unavailable (retry), never "accepted"; the
// execution goes on from what the store has.
TEST_F(EngineRebuildTest, SignalWhoseCommitIsLostAnswersUnavailableAndTheWorkflowGoesOn) {
  ASSERT_TRUE(StartTyped("w", "one_by_one", "5").ok());
  gate_.WaitForWaiter();
  db_->InjectLostConnectionForTest(false);
  Status during = engine_->Signal("w", "s", "");  // this signal's commit is the one lost
  EXPECT_EQ(during.code(), StatusCode::kUnavailable) << during.ToString();
  gate_.Open();
  EXPECT_EQ(WaitClosed("w").status, ExecutionStatus::kCompleted);
  EXPECT_EQ(CompletedEvents("w"), kEachOfFiveOnce);
}

// A child's closing commit with an unknown outcome: the rebuild finds it closed and tells the
// live parent, which would otherwise wait forever.
TEST_F(EngineRebuildTest, ChildWhoseClosingCommitWasLostStillReachesItsParent) {
  gated_activity_ = 0;
  ASSERT_TRUE(StartTyped("p", "parent", "").ok());
  FailCommitOfActivity(/*applied=*/true);
  ExecutionRecord parent = WaitClosed("p");
  EXPECT_EQ(parent.status, ExecutionStatus::kCompleted);
  EXPECT_EQ(parent.result, "child completed");
  EXPECT_EQ(Calls("p/child", 0), 1);
  EXPECT_EQ(CompletedEvents("p/child"), (std::map<int64_t, int>{{0, 1}}));
}

// A start whose commit was applied but reported lost runs (the caller was told to retry, and
// its retry finds it); a start that never reached the store left nothing behind.
TEST_F(EngineRebuildTest, StartWithUnknownOutcomeRunsOnceAndARetryFindsIt) {
  gated_activity_ = -1;
  db_->InjectLostConnectionForTest(/*applied=*/true);
  Status first = StartTyped("s", "one_by_one", "5");
  EXPECT_EQ(first.code(), StatusCode::kUnknownOutcome) << first.ToString();
  EXPECT_EQ(WaitClosed("s").status, ExecutionStatus::kCompleted);
  EXPECT_EQ(CompletedEvents("s"), kEachOfFiveOnce);
  EXPECT_EQ(StartTyped("s", "one_by_one", "5").code(), StatusCode::kAlreadyExists);

  db_->InjectLostConnectionForTest(/*applied=*/false);
  EXPECT_EQ(StartTyped("t", "one_by_one", "5").code(), StatusCode::kUnavailable);
  EXPECT_EQ(engine_->Describe("t").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(StartTyped("t", "one_by_one", "5").ok());
  EXPECT_EQ(WaitClosed("t").status, ExecutionStatus::kCompleted);
  EXPECT_EQ(Calls("t", 0), 1);
}

}  // namespace
}  // namespace papr::engine
