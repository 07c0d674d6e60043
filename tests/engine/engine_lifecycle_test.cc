// The edges of an execution's life (issue: one live execution per id, durable parent-close):
// starts before recovery, concurrent starts of one id, subscriptions and requests for an
// execution that is open on disk but not live, and the parent-close policy across restarts.

#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "engine/engine.h"
#include "engine/workflow.h"
#include "engine/workflow_context.h"
#include "storage/db.h"
#include "tests/engine/engine_test_support.h"
#include "tests/storage/temp_dir.h"

namespace papr::engine {
namespace {

using namespace std::chrono_literals;

// Schedules `input` activities of type "count" at once and completes after all of them.
WorkflowTask AllAtOnce(WorkflowContext& ctx, std::string input) {
  const int64_t n = std::stoll(input);
  for (int64_t i = 0; i < n; ++i) ctx.StartActivity("count", std::to_string(i), {}, i);
  for (int64_t done = 0; done < n;) {
    if ((co_await ctx.NextEvent()).kind == WorkflowEvent::Kind::kActivity) ++done;
  }
  co_return WorkflowOutcome::Completed("done");
}

// Runs "slow" activities one by one, keeping its progress, until cancelled or `input` are done.
WorkflowTask Steps(WorkflowContext& ctx, std::string input) {
  const int64_t n = std::stoll(input);
  int64_t done = 0;
  while (done < n && !ctx.CancelRequested()) {
    if (ctx.PendingActivities() == 0) ctx.StartActivity("slow", std::to_string(done), {}, done);
    WorkflowEvent ev = co_await ctx.NextEvent();
    if (ev.kind == WorkflowEvent::Kind::kActivity) ctx.SetProgress(++done, 0, 0);
  }
  co_return WorkflowOutcome::Completed(std::to_string(done));
}

// Waits for one signal, forever.
WorkflowTask Blocker(WorkflowContext& ctx, std::string input) {
  while (true) {
    WorkflowEvent ev = co_await ctx.NextEvent();
    if (ev.kind == WorkflowEvent::Kind::kSignal) break;
  }
  co_return WorkflowOutcome::Completed("signalled " + input);
}

// Starts child `input` + "/child" of type "blocker" (or "steps" when input ends with
// ":steps") and reports what the child did when it closed: "<succeeded>:<error>".
WorkflowTask Parent(WorkflowContext& ctx, std::string input) {
  bool steps = input.size() > 6 && input.substr(input.size() - 6) == ":steps";
  ctx.StartChildWorkflow(ctx.workflow_id() + "/child", steps ? "steps" : "blocker",
                         steps ? "1000" : "");
  while (true) {
    WorkflowEvent ev = co_await ctx.NextEvent();
    if (ev.kind == WorkflowEvent::Kind::kChild) {
      co_return WorkflowOutcome::Completed(std::to_string(ev.child_succeeded) + ":" + ev.error);
    }
  }
}

class EngineLifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override { OpenDb(); }
  void TearDown() override {
    engine_.reset();
    db_.reset();
  }

  void OpenDb() {
    storage::DbOptions o;
    o.path = dir_.path() / "db";
    auto db = storage::Db::Open(o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }

  // A new engine on the store (the previous one and the database closed first when
  // `restart`); `with_blocker` false leaves the "blocker" type unregistered.
  void NewEngine(bool restart, bool with_blocker = true) {
    if (restart) {
      engine_.reset();
      db_.reset();
      OpenDb();
    }
    EngineOptions o;
    o.activity_workers = 4;
    o.runner_threads = 2;
    engine_ = std::make_unique<Engine>(db_.get(), o);
    engine_->RegisterWorkflow("all_at_once", AllAtOnce);
    engine_->RegisterWorkflow("steps", Steps);
    engine_->RegisterWorkflow("parent", Parent);
    if (with_blocker) engine_->RegisterWorkflow("blocker", Blocker);
    engine_->RegisterActivity("count", [this](const ActivityCall&) {
      calls_++;
      return ActivityResult::Ok("");
    });
    engine_->RegisterActivity("slow", [](const ActivityCall&) {
      std::this_thread::sleep_for(5ms);
      return ActivityResult::Ok("");
    });
  }

  Status StartTyped(const std::string& id, const std::string& type, const std::string& input) {
    StartOptions o;
    o.workflow_id = id;
    o.workflow_type = type;
    o.input = input;
    return engine_->StartWorkflow(std::move(o));
  }

  ExecutionRecord WaitClosed(const std::string& id, std::chrono::seconds timeout = 10s) {
    return engine::WaitClosed(*engine_, id, timeout);
  }

  storage::testing::TempDir dir_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<Engine> engine_;
  std::atomic<int> calls_{0};
};

// While recovery runs, a start could race its scan into two in-memory executions of one id
// (each activity ran twice): the engine refuses then. An engine that was never started only
// records a start, which the next Start() resumes: each activity runs once.
TEST_F(EngineLifecycleTest, StartsBeforeAndDuringRecoveryNeverRunTwice) {
  NewEngine(false);
  ASSERT_TRUE(StartTyped("early", "all_at_once", "6").ok());
  EXPECT_EQ(calls_.load(), 0);
  ::setenv("PAPR_TEST_RECOVERY_DELAY_MS", "500", 1);
  std::thread starter([&] { EXPECT_TRUE(engine_->Start().ok()); });
  // Start() sets started before the delayed recovery; a start before that is only recorded.
  while (!engine_->started()) std::this_thread::sleep_for(1ms);
  Status during = StartTyped("during", "all_at_once", "6");
  EXPECT_EQ(during.code(), StatusCode::kUnavailable) << during.ToString();
  EXPECT_EQ(engine_->RequestCancel("early", "x").code(), StatusCode::kUnavailable);
  starter.join();
  ::unsetenv("PAPR_TEST_RECOVERY_DELAY_MS");
  EXPECT_EQ(WaitClosed("early").status, ExecutionStatus::kCompleted);
  EXPECT_EQ(calls_.load(), 6);
}

// Starts racing Start() itself (a server whose engine starts late, e.g. once a full disk has
// space again): each is recorded before recovery's scan or runs live, so every one ends
// without a restart. A start recorded after the scan would stay open until one.
TEST_F(EngineLifecycleTest, StartsRacingStartAreEachRunOnce) {
  constexpr int kStarts = 40;
  NewEngine(false);
  std::thread starter([&] {
    std::this_thread::sleep_for(2ms);
    EXPECT_TRUE(engine_->Start().ok());
  });
  for (int i = 0; i < kStarts; ++i) {
    Status s;
    do {
      s = StartTyped("race-" + std::to_string(i), "all_at_once", "2");
      if (s.code() == StatusCode::kUnavailable) std::this_thread::sleep_for(1ms);
    } while (s.code() == StatusCode::kUnavailable);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  starter.join();
  for (int i = 0; i < kStarts; ++i) {
    EXPECT_EQ(WaitClosed("race-" + std::to_string(i)).status, ExecutionStatus::kCompleted);
  }
  EXPECT_EQ(calls_.load(), 2 * kStarts);
}

// Eight starts of one id at once: one starts it, the other seven see it (AlreadyExists) with
// its first event already readable, never a half-started execution.
TEST_F(EngineLifecycleTest, ConcurrentStartsOfOneIdAllSeeTheCommittedExecution) {
  NewEngine(false);
  ASSERT_TRUE(engine_->Start().ok());
  for (int round = 0; round < 20; ++round) {
    const std::string id = "same-" + std::to_string(round);
    std::atomic<int> ok{0}, exists{0}, other{0}, unreadable{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&] {
        while (!go) std::this_thread::yield();
        Status s = StartTyped(id, "all_at_once", "1");
        if (s.ok()) {
          ok++;
        } else if (s.code() == StatusCode::kAlreadyExists) {
          exists++;
          auto first = engine_->ReadHistory(id, 0, 1);
          if (!first.ok() || first->empty()) unreadable++;
        } else {
          other++;
        }
      });
    }
    go = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 1) << id;
    EXPECT_EQ(exists.load(), 7) << id;
    EXPECT_EQ(other.load(), 0) << id;
    EXPECT_EQ(unreadable.load(), 0) << id << ": AlreadyExists before the start was durable";
  }
}

// An execution that recovery could not resume is open on disk and not live: a subscription
// answers false without calling back (no re-subscribe loop), a request says why it fails.
TEST_F(EngineLifecycleTest, OpenButNotResumedExecutionNeitherCallsBackNorTakesRequests) {
  NewEngine(false);
  ASSERT_TRUE(engine_->Start().ok());
  ASSERT_TRUE(StartTyped("stuck", "blocker", "").ok());
  NewEngine(/*restart=*/true, /*with_blocker=*/false);
  ASSERT_TRUE(engine_->Start().ok());
  ASSERT_EQ(engine_->Describe("stuck")->status, ExecutionStatus::kRunning);
  bool called = false;
  EXPECT_FALSE(engine_->SubscribeOnce("stuck", [&] { called = true; }));
  EXPECT_FALSE(called);
  Status cancel = engine_->RequestCancel("stuck", "x");
  EXPECT_EQ(cancel.code(), StatusCode::kFailedPrecondition) << cancel.ToString();
  EXPECT_NE(cancel.message().find("could not be resumed"), std::string::npos) << cancel.ToString();
}

// Terminating a parent terminates its open child (policy TERMINATE), live.
TEST_F(EngineLifecycleTest, TerminatedParentTerminatesItsChild) {
  NewEngine(false);
  ASSERT_TRUE(engine_->Start().ok());
  ASSERT_TRUE(StartTyped("p", "parent", "").ok());
  ASSERT_TRUE(engine_->Terminate("p", "operator").ok());
  ExecutionRecord child = WaitClosed("p/child");
  EXPECT_EQ(child.status, ExecutionStatus::kTerminated);
  EXPECT_NE(child.failure.find("parent p terminated: operator"), std::string::npos) << child.failure;
}

// The parent's close records the child's request in its own commit: a child that is not live
// when the parent closes (here: not resumable until the next start) is terminated at the next
// start instead of running on.
TEST_F(EngineLifecycleTest, ParentCloseRequestSurvivesRestartsUntilTheChildHandlesIt) {
  NewEngine(false);
  ASSERT_TRUE(engine_->Start().ok());
  ASSERT_TRUE(StartTyped("p", "parent", "").ok());
  ASSERT_TRUE(engine_->Describe("p/child").ok());
  NewEngine(/*restart=*/true, /*with_blocker=*/false);  // the child is not resumed
  ASSERT_TRUE(engine_->Start().ok());
  ASSERT_TRUE(engine_->Terminate("p", "operator").ok());
  EXPECT_EQ(engine_->Describe("p/child")->status, ExecutionStatus::kRunning);
  NewEngine(/*restart=*/true);
  ASSERT_TRUE(engine_->Start().ok());
  EXPECT_EQ(WaitClosed("p/child").status, ExecutionStatus::kTerminated);
}

// A terminated child returns no result; its parent still learns what it had done.
TEST_F(EngineLifecycleTest, TerminatedChildReportsItsProgressToTheParent) {
  NewEngine(false);
  ASSERT_TRUE(engine_->Start().ok());
  ASSERT_TRUE(StartTyped("p", "parent", "x:steps").ok());
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (engine_->Describe("p/child")->progress_succeeded < 3 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(2ms);
  }
  // While it runs, the parent's record lists it as open (readers add its progress).
  EXPECT_EQ(engine_->Describe("p")->open_children, std::vector<std::string>{"p/child"});
  ASSERT_TRUE(engine_->Terminate("p/child", "operator").ok());
  ExecutionRecord child = WaitClosed("p/child");
  ExecutionRecord parent = WaitClosed("p");
  ASSERT_GE(child.progress_succeeded, 3);
  EXPECT_EQ(parent.result, std::to_string(child.progress_succeeded) + ":operator");
  EXPECT_TRUE(parent.open_children.empty());
}

// A close is counted once whoever committed it: here the first task itself (no activities).
TEST_F(EngineLifecycleTest, ExecutionClosingInItsFirstTaskIsCountedOnce) {
  NewEngine(false);
  ASSERT_TRUE(engine_->Start().ok());
  ASSERT_TRUE(StartTyped("empty", "all_at_once", "0").ok());
  EXPECT_EQ(WaitClosed("empty").status, ExecutionStatus::kCompleted);
  EXPECT_NE(engine_->MetricsText().find(
                "papr_engine_workflows_closed_total{status=\"completed\"} 1\n"),
            std::string::npos)
      << engine_->MetricsText();
}

}  // namespace
}  // namespace papr::engine
