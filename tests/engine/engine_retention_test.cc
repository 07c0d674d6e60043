// Retention sweeps (periodic, bounded, a root with its children) and owner-listing cursors.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "engine/engine.h"
#include "engine/workflow_context.h"
#include "tests/engine/engine_test_support.h"
#include "tests/engine/test_printers.h"

namespace papr::engine {
namespace {

using namespace std::chrono_literals;

WorkflowTask Immediate(WorkflowContext& ctx, std::string input) {
  co_return WorkflowOutcome::Completed(input);
}

WorkflowTask UntilSignal(WorkflowContext& ctx, std::string input) {
  WorkflowEvent ev = co_await ctx.NextEvent();
  while (ev.kind != WorkflowEvent::Kind::kSignal) ev = co_await ctx.NextEvent();
  co_return WorkflowOutcome::Completed(input);
}

// Starts children "<id>/chunk-0" and "<id>/chunk-1" (they complete at once), then waits for
// both and for a signal.
WorkflowTask ParentOfTwo(WorkflowContext& ctx, std::string input) {
  for (int i = 0; i < 2; ++i) {
    ctx.StartChildWorkflow(ctx.workflow_id() + "/chunk-" + std::to_string(i), "immediate", "");
  }
  int children = 0;
  bool signaled = false;
  while (children < 2 || !signaled) {
    WorkflowEvent ev = co_await ctx.NextEvent();
    if (ev.kind == WorkflowEvent::Kind::kChild) ++children;
    if (ev.kind == WorkflowEvent::Kind::kSignal) signaled = true;
  }
  co_return WorkflowOutcome::Completed("parent");
}

class RetentionTest : public ::testing::Test {
 protected:
  void TearDown() override { engine_.reset(); }

  void StartEngine(EngineOptions o) {
    o.activity_workers = 1;
    o.io_activity_workers = 1;
    o.runner_threads = 2;
    if (o.clock == SystemClock::Default()) o.clock = &clock_;
    engine_ = std::make_unique<Engine>(db_.db(), o);
    engine_->RegisterWorkflow("immediate", Immediate);
    engine_->RegisterWorkflow("until_signal", UntilSignal);
    engine_->RegisterWorkflow("parent", ParentOfTwo);
    ASSERT_TRUE(engine_->Start().ok());
  }

  void Start(const std::string& id, const std::string& type, const std::string& owner = "o") {
    StartOptions o;
    o.workflow_id = id;
    o.workflow_type = type;
    o.owner = owner;
    ASSERT_TRUE(engine_->StartWorkflow(o).ok()) << id;
  }

  bool Exists(const std::string& id) { return engine_->Describe(id).ok(); }

  // Polls (real time) until pred; for effects of other threads.
  bool Eventually(const std::function<bool()>& pred) {
    for (int i = 0; i < 2000; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

  std::vector<std::string> Ids(const Result<std::vector<ExecutionRecord>>& page) {
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<std::string> out;
    if (page.ok()) {
      for (const auto& r : *page) out.push_back(r.workflow_id);
    }
    return out;
  }

  ManualClock clock_;
  TempDb db_;
  std::unique_ptr<Engine> engine_;
};

// Chunks that closed long ago stay while their root is within retention (before, they were
// deleted alone, leaving the root naming missing children); then all go in one sweep.
TEST_F(RetentionTest, RootAndItsChildrenAreDeletedTogether) {
  EngineOptions o;
  o.retention_ms = 500;
  StartEngine(o);
  Start("root", "parent");
  auto completed = [&](const std::string& id) {
    auto r = engine_->Describe(id);
    return r.ok() && r->status == ExecutionStatus::kCompleted;
  };
  ASSERT_TRUE(Eventually([&] { return completed("root/chunk-0") && completed("root/chunk-1"); }));
  clock_.Advance(1000);
  ASSERT_TRUE(engine_->Signal("root", "close", "").ok());
  // It closes once it has also recorded both children's close (the time stands still).
  ASSERT_TRUE(Eventually([&] { return completed("root"); }));
  clock_.Advance(200);  // the chunks are past retention, the root is not
  auto swept = engine_->SweepRetention();
  ASSERT_TRUE(swept.ok()) << swept.status().ToString();
  EXPECT_EQ(*swept, 0);
  EXPECT_TRUE(Exists("root/chunk-0"));
  EXPECT_TRUE(Exists("root/chunk-1"));
  clock_.Advance(400);
  swept = engine_->SweepRetention();
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(*swept, 3);
  for (const char* id : {"root", "root/chunk-0", "root/chunk-1"}) {
    EXPECT_FALSE(Exists(id)) << id;
    EXPECT_TRUE(engine_->ReadHistory(id)->empty()) << id;
  }
}

TEST_F(RetentionTest, SweepWorkIsBounded) {
  EngineOptions o;
  o.retention_ms = 0;
  o.retention_max_per_sweep = 2;
  o.retention_per_commit = 1;
  StartEngine(o);
  for (const char* id : {"w0", "w1", "w2", "w3", "w4"}) Start(id, "immediate");
  clock_.Advance(1);
  EXPECT_EQ(*engine_->SweepRetention(), 2);
  EXPECT_EQ(*engine_->SweepRetention(), 2);
  EXPECT_EQ(*engine_->SweepRetention(), 1);
  EXPECT_EQ(*engine_->SweepRetention(), 0);
}

// No call to SweepRetention: the engine's own periodic sweep deletes what falls due later.
TEST_F(RetentionTest, SweepRunsPeriodically) {
  EngineOptions o;
  o.retention_ms = 1000;
  o.retention_sweep_ms = 10;
  StartEngine(o);
  Start("w", "immediate");
  ASSERT_TRUE(Exists("w"));
  clock_.Advance(2000);  // due only now, long after the engine started
  EXPECT_TRUE(Eventually([&] { return !Exists("w"); }));
}

// The cursor seeks: a cursor whose execution retention deleted continues with the next older
// one (a scan for the cursor's id found nothing after it); a bare id still works.
TEST_F(RetentionTest, ListingCursorSurvivesDeletionOfItsExecution) {
  EngineOptions o;
  o.retention_ms = 0;
  StartEngine(o);
  for (const char* id : {"a", "b", "c"}) {
    Start(id, "until_signal");
    clock_.Advance(10);
  }
  EXPECT_EQ(Ids(engine_->ListByOwner("o", 10, "")), (std::vector<std::string>{"c", "b", "a"}));
  auto first = engine_->ListByOwner("o", 2, "");
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 2u);
  std::string cursor = Engine::OwnerCursor(first->back());  // after "b"
  EXPECT_EQ(Ids(engine_->ListByOwner("o", 10, cursor)), (std::vector<std::string>{"a"}));
  EXPECT_EQ(Ids(engine_->ListByOwner("o", 10, "c")), (std::vector<std::string>{"b", "a"}));

  ASSERT_TRUE(engine_->Signal("b", "close", "").ok());
  clock_.Advance(1);
  ASSERT_EQ(*engine_->SweepRetention(), 1);
  ASSERT_FALSE(Exists("b"));
  EXPECT_EQ(Ids(engine_->ListByOwner("o", 10, cursor)), (std::vector<std::string>{"a"}));
  EXPECT_EQ(Ids(engine_->ListByOwner("o", 1, Engine::OwnerCursor(*engine_->Describe("c")))),
            (std::vector<std::string>{"a"}));
}

}  // namespace
}  // namespace papr::engine
