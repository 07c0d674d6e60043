// Creating executions: a child execution row is created by an Insert, so a child id a parent
// cannot take fails the child instead of the parent's commit, and one id started twice in a
// task is created once.
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "engine/engine.h"
#include "engine/workflow.h"
#include "engine/workflow_context.h"
#include "tests/engine/engine_test_support.h"

namespace papr::engine {
namespace {

using namespace std::chrono_literals;

// Completes with "done".
WorkflowTask Done(WorkflowContext&, std::string) { co_return WorkflowOutcome::Completed("done"); }

// Starts child `input` (in its first task, or after a signal when input starts with "later:")
// once, or twice when it ends with ":twice", and completes with what the first child event
// said: "ok:<payload>" or "failed:<error>".
WorkflowTask Parent(WorkflowContext& ctx, std::string input) {
  if (input.starts_with("later:")) {
    input = input.substr(6);
    while ((co_await ctx.NextEvent()).kind != WorkflowEvent::Kind::kSignal) {
    }
  }
  bool twice = input.ends_with(":twice");
  std::string child = twice ? input.substr(0, input.size() - 6) : input;
  ctx.StartChildWorkflow(child, "done", "");
  if (twice) ctx.StartChildWorkflow(child, "done", "");
  while (true) {
    WorkflowEvent ev = co_await ctx.NextEvent();
    if (ev.kind != WorkflowEvent::Kind::kChild) continue;
    co_return WorkflowOutcome::Completed(ev.error.empty() ? "ok:" + ev.payload
                                                          : "failed:" + ev.error);
  }
}

class EngineCreateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions o;
    o.runner_threads = 2;
    engine_ = std::make_unique<Engine>(db_.db(), o);
    engine_->RegisterWorkflow("parent", Parent);
    engine_->RegisterWorkflow("done", Done);
    ASSERT_TRUE(engine_->Start().ok());
  }

  Status StartParent(const std::string& id, const std::string& input) {
    StartOptions o;
    o.workflow_id = id;
    o.workflow_type = "parent";
    o.input = input;
    return engine_->StartWorkflow(std::move(o));
  }

  ExecutionRecord WaitClosed(const std::string& id) { return engine::WaitClosed(*engine_, id); }

  int64_t StartedEvents(const std::string& id) {
    auto history = engine_->ReadHistory(id);
    EXPECT_TRUE(history.ok()) << history.status().ToString();
    if (!history.ok()) return -1;
    int64_t started = 0;
    for (const auto& e : *history) started += e.type == EventType::kWorkflowExecutionStarted;
    return started;
  }

  TempDb db_;
  std::unique_ptr<Engine> engine_;
};

// The parent's own id is taken while its start commits (it is not published yet): the child
// fails to start; the start itself succeeds and the parent's history stays its own.
TEST_F(EngineCreateTest, ChildWithTheParentsOwnIdFailsToStart) {
  ASSERT_TRUE(StartParent("self", "self").ok());
  ExecutionRecord r = WaitClosed("self");
  EXPECT_EQ(r.status, ExecutionStatus::kCompleted);
  EXPECT_EQ(r.result, "failed:child workflow id self is already in use");
  EXPECT_TRUE(r.parent_workflow_id.empty());
  EXPECT_EQ(StartedEvents("self"), 1);
}

// One child id started twice in the first task, or in a later one: created once, and the parent
// hears that child's outcome.
TEST_F(EngineCreateTest, OneChildIdStartedTwiceInATaskIsCreatedOnce) {
  ASSERT_TRUE(StartParent("first", "first/kid:twice").ok());
  EXPECT_EQ(WaitClosed("first").result, "ok:done");
  EXPECT_EQ(StartedEvents("first/kid"), 1);

  ASSERT_TRUE(StartParent("later", "later:later/kid:twice").ok());
  ASSERT_TRUE(engine_->Signal("later", "go", "").ok());
  EXPECT_EQ(WaitClosed("later").result, "ok:done");
  EXPECT_EQ(StartedEvents("later/kid"), 1);
  EXPECT_EQ(engine_->Describe("later/kid")->parent_workflow_id, "later");
}

// A start that says its id is new skips looking for it, yet a taken id is still refused (the
// commit's Insert of the execution row), and the existing execution is left as it was.
TEST_F(EngineCreateTest, StartWithANewIdThatIsTakenIsRefusedByItsCommit) {
  ASSERT_TRUE(StartParent("taken", "taken").ok());
  EXPECT_EQ(WaitClosed("taken").status, ExecutionStatus::kCompleted);
  StartOptions o;
  o.workflow_id = "taken";
  o.workflow_type = "done";
  o.new_id = true;
  Status again = engine_->StartWorkflow(std::move(o));
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
  EXPECT_EQ(StartedEvents("taken"), 1);
  EXPECT_EQ(engine_->Describe("taken")->workflow_type, "parent");
}

}  // namespace
}  // namespace papr::engine
