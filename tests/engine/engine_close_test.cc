// What happens at and after an execution's close: late requests, close counters.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "engine/engine.h"
#include "engine/execution_record.h"
#include "engine/workflow_context.h"
#include "storage/db.h"
#include "storage/keys.h"
#include "tests/engine/engine_test_support.h"
#include "tests/engine/test_printers.h"

namespace papr::engine {
namespace {

using namespace std::chrono_literals;

// Completes on its first signal; `on_signal` runs (on the runner) before it does.
WorkflowTask CloseOnSignal(WorkflowContext& ctx, std::string input,
                           std::function<void()> on_signal) {
  WorkflowEvent ev = co_await ctx.NextEvent();
  while (ev.kind != WorkflowEvent::Kind::kSignal) ev = co_await ctx.NextEvent();
  if (on_signal) on_signal();
  co_return WorkflowOutcome::Completed("signaled");
}

class EngineCloseTest : public ::testing::Test {
 protected:
  void TearDown() override {
    gate_.Open();  // never leave a runner blocked
    engine_.reset();
  }

  void StartEngine(int runner_threads) {
    EngineOptions o;
    o.activity_workers = 2;
    o.io_activity_workers = 2;
    o.runner_threads = runner_threads;
    o.clock = &clock_;
    engine_ = std::make_unique<Engine>(db_.db(), o);
    engine_->RegisterWorkflow("gated", [this](WorkflowContext& ctx, std::string in) {
      return CloseOnSignal(ctx, std::move(in), [this] { gate_.Pass(); });
    });
    engine_->RegisterWorkflow("plain", [](WorkflowContext& ctx, std::string in) {
      return CloseOnSignal(ctx, std::move(in), nullptr);
    });
    ASSERT_TRUE(engine_->Start().ok());
  }

  Status Start(const std::string& id, const std::string& type) {
    StartOptions o;
    o.workflow_id = id;
    o.workflow_type = type;
    return engine_->StartWorkflow(std::move(o));
  }

  std::future<Status> SignalAsync(const std::string& id, const std::string& name) {
    return std::async(std::launch::async, [this, id, name] { return engine_->Signal(id, name, ""); });
  }

  int Signaled(const std::string& id) {
    auto h = engine_->ReadHistory(id);
    EXPECT_TRUE(h.ok());
    int n = 0;
    for (const auto& e : *h) n += e.type == EventType::kWorkflowExecutionSignaled;
    return n;
  }

  bool MetricsHave(const std::string& line) {
    return engine_->MetricsText().find(line + "\n") != std::string::npos;
  }

  TempDb db_;
  std::unique_ptr<Engine> engine_;
  Gate gate_;
  ManualClock clock_;
};

// A request queued while the closing transition runs reaches an execution that is already
// closed: it is refused (HTTP 409), not acknowledged without an event; the close is counted
// once even though the closed execution's runner ran again for the late item.
TEST_F(EngineCloseTest, RequestArrivingDuringTheClosingTransitionIsRefused) {
  StartEngine(2);
  ASSERT_TRUE(Start("w", "gated").ok());
  auto closing = SignalAsync("w", "first");
  gate_.WaitForWaiter();  // the closing transition is running
  auto terminate = std::async(std::launch::async, [this] { return engine_->Terminate("w", "late"); });
  auto cancel = std::async(std::launch::async, [this] { return engine_->RequestCancel("w", "late"); });
  auto late_signal = SignalAsync("w", "late");
  std::this_thread::sleep_for(100ms);  // let them queue behind the close (not needed to pass)
  gate_.Open();
  EXPECT_TRUE(closing.get().ok());
  for (auto* f : {&terminate, &cancel, &late_signal}) {
    Status s = f->get();
    EXPECT_TRUE(s.code() == StatusCode::kFailedPrecondition) << s.ToString();
    EXPECT_NE(s.message().find("already completed"), std::string::npos) << s.ToString();
  }
  EXPECT_EQ(Signaled("w"), 1);
  EXPECT_EQ(engine_->Describe("w")->status, ExecutionStatus::kCompleted);
  EXPECT_TRUE(MetricsHave("papr_engine_workflows_closed_total{status=\"completed\"} 1"))
      << engine_->MetricsText();
  EXPECT_TRUE(MetricsHave("papr_engine_workflows_closed_total{status=\"terminated\"} 0"));
}

// Two signals in one inbox swap: the first closes the execution, the second is refused.
TEST_F(EngineCloseTest, RequestBehindTheClosingItemInOneSwapIsRefused) {
  StartEngine(1);  // one runner: hold it so both signals queue in one inbox
  ASSERT_TRUE(Start("holder", "gated").ok());
  ASSERT_TRUE(Start("w", "plain").ok());
  auto hold = SignalAsync("holder", "hold");
  gate_.WaitForWaiter();
  auto a = SignalAsync("w", "a");
  auto b = SignalAsync("w", "b");
  std::this_thread::sleep_for(100ms);  // let both queue (not needed to pass)
  gate_.Open();
  EXPECT_TRUE(hold.get().ok());
  Status sa = a.get(), sb = b.get();
  EXPECT_EQ(sa.ok() + sb.ok(), 1) << sa.ToString() << " / " << sb.ToString();
  EXPECT_TRUE(sa.code() == StatusCode::kFailedPrecondition || sb.code() == StatusCode::kFailedPrecondition);
  EXPECT_EQ(Signaled("w"), 1);
  EXPECT_TRUE(MetricsHave("papr_engine_workflows_closed_total{status=\"completed\"} 2"))
      << engine_->MetricsText();
}

// After the close, every request is refused and none is recorded.
TEST_F(EngineCloseTest, RequestsAfterTheCloseAreRefused) {
  StartEngine(2);
  ASSERT_TRUE(Start("w", "plain").ok());
  ASSERT_TRUE(engine_->Signal("w", "only", "").ok());
  EXPECT_TRUE(engine_->Signal("w", "again", "").code() == StatusCode::kFailedPrecondition);
  EXPECT_TRUE(engine_->RequestCancel("w", "r").code() == StatusCode::kFailedPrecondition);
  EXPECT_TRUE(engine_->Terminate("w", "r").code() == StatusCode::kFailedPrecondition);
  EXPECT_EQ(Signaled("w"), 1);
}

// While an execution is live, Describe answers the row its last commit wrote, without a read
// (a row planted behind the engine's back is not seen); once it is closed, the store's row.
TEST_F(EngineCloseTest, DescribeAnswersFromTheLastCommitUntilAClosedRowIsDueForARead) {
  StartEngine(2);
  ASSERT_TRUE(Start("w", "plain").ok());
  auto plant = [this](const std::string& memo) {
    auto row = db_.db()->Get(storage::Table::kExecutions, storage::ExecutionKey("w"));
    ASSERT_TRUE(row.ok() && row->has_value());
    auto record = DecodeExecutionRecord(**row);
    ASSERT_TRUE(record.ok());
    record->memo = memo;
    storage::WriteBatch wb;
    wb.Put(storage::Table::kExecutions, storage::ExecutionKey("w"), EncodeExecutionRecord(*record));
    ASSERT_TRUE(db_.db()->Write(wb).ok());
  };
  plant("planted while live");
  auto live = engine_->Describe("w");
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  EXPECT_EQ(live->status, ExecutionStatus::kRunning);
  EXPECT_EQ(live->memo, "");
  EXPECT_EQ(live->workflow_id, "w");
  EXPECT_EQ(live->workflow_type, "plain");
  ASSERT_TRUE(engine_->Signal("w", "close", "").ok());
  // Closed here: the closing commit's row, not the store's, for the cache's time limit.
  plant("planted once closed");
  auto closed = engine_->Describe("w");
  ASSERT_TRUE(closed.ok()) << closed.status().ToString();
  EXPECT_EQ(closed->status, ExecutionStatus::kCompleted);
  EXPECT_EQ(closed->memo, "");
  EXPECT_EQ(closed->workflow_id, "w");
  clock_.Advance(10'001);
  EXPECT_EQ(engine_->Describe("w")->memo, "planted once closed");
}

}  // namespace
}  // namespace papr::engine
