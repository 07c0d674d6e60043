// Activity timeouts enforced by timers: schedule-to-close while an attempt hangs, heartbeats.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
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

// Runs one "work" activity with `options`; completes with its result or fails with its error.
WorkflowTask OneActivity(WorkflowContext& ctx, std::string input, ActivityOptions options) {
  ctx.StartActivity("work", input, options, 0);
  WorkflowEvent ev = co_await ctx.NextEvent();
  while (ev.kind != WorkflowEvent::Kind::kActivity) ev = co_await ctx.NextEvent();
  if (!ev.ok) co_return WorkflowOutcome::Failed(ev.error);
  co_return WorkflowOutcome::Completed(ev.payload);
}

class ActivityTimeoutTest : public ::testing::Test {
 protected:
  void TearDown() override {
    gate_.Open();  // release hanging attempts
    engine_.reset();
  }

  void StartEngine(const Clock* clock = SystemClock::Default()) {
    EngineOptions o;
    o.activity_workers = 2;
    o.io_activity_workers = 2;
    o.runner_threads = 2;
    o.clock = clock;
    engine_ = std::make_unique<Engine>(db_.db(), o);
    engine_->RegisterWorkflow("one", [this](WorkflowContext& ctx, std::string in) {
      return OneActivity(ctx, std::move(in), options_);
    });
    engine_->RegisterActivity("work", [this](const ActivityCall& c) {
      {
        std::lock_guard lock(mu_);
        attempts_.push_back(c.attempt);
      }
      return work_(c);
    });
    ASSERT_TRUE(engine_->Start().ok());
  }

  ExecutionRecord RunToClose(const std::string& id) {
    StartOptions o;
    o.workflow_id = id;
    o.workflow_type = "one";
    o.input = "in";
    EXPECT_TRUE(engine_->StartWorkflow(o).ok());
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = engine_->Describe(id);
      if (r.ok() && r->status != ExecutionStatus::kRunning) return *r;
      std::this_thread::sleep_for(5ms);
    }
    ADD_FAILURE() << id << " did not close";
    return {};
  }

  std::vector<HistoryEvent> Events(const std::string& id, EventType type) {
    std::vector<HistoryEvent> out;
    auto history = engine_->ReadHistory(id);
    EXPECT_TRUE(history.ok());
    for (const auto& e : *history) {
      if (e.type == type) out.push_back(e);
    }
    return out;
  }

  std::vector<int64_t> Attempts() {
    std::lock_guard lock(mu_);
    return attempts_;
  }

  TempDb db_;
  std::unique_ptr<Engine> engine_;
  Gate gate_;
  ActivityOptions options_;
  std::function<ActivityResult(const ActivityCall&)> work_;
  std::mutex mu_;
  std::vector<int64_t> attempts_;
};

// An attempt that never returns still ends at the schedule-to-close deadline (before, the
// deadline was checked only when a result arrived: the workflow waited for ever).
TEST_F(ActivityTimeoutTest, ScheduleToCloseEndsAHangingAttempt) {
  options_.schedule_to_close_timeout_ms = 60;
  work_ = [this](const ActivityCall&) {
    gate_.Pass();  // hangs until the test ends
    return ActivityResult::Ok("late");
  };
  StartEngine();
  ExecutionRecord r = RunToClose("hang");
  EXPECT_EQ(r.status, ExecutionStatus::kFailed);
  auto timed_out = Events("hang", EventType::kActivityTaskTimedOut);
  ASSERT_EQ(timed_out.size(), 1u);
  EXPECT_NE(timed_out[0].failure.find("schedule-to-close timeout"), std::string::npos)
      << timed_out[0].failure;
  EXPECT_EQ(timed_out[0].failure_type, "ScheduleToCloseTimeout");
  EXPECT_GE(timed_out[0].time_ms - engine_->ReadHistory("hang")->front().time_ms, 60);
  // The hanging attempt's late result is dropped.
  size_t events = engine_->ReadHistory("hang")->size();
  gate_.Open();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(engine_->ReadHistory("hang")->size(), events);
}

// The deadline also ends an activity that is waiting for its next attempt.
TEST_F(ActivityTimeoutTest, ScheduleToCloseEndsABackingOffActivity) {
  options_.schedule_to_close_timeout_ms = 60;
  options_.retry.initial_interval_ms = 60000;  // the retry would be due long after
  work_ = [](const ActivityCall&) { return ActivityResult::Error("nope", "Unavailable", false); };
  StartEngine();
  ExecutionRecord r = RunToClose("backoff");
  EXPECT_EQ(r.status, ExecutionStatus::kFailed);
  ASSERT_EQ(Events("backoff", EventType::kActivityTaskTimedOut).size(), 1u);
  EXPECT_EQ(Attempts(), (std::vector<int64_t>{1}));
}

// An attempt that stops heartbeating fails as a heartbeat timeout and is retried; its late
// result is dropped by the attempt fencing.
TEST_F(ActivityTimeoutTest, SilentAttemptTimesOutAndIsRetried) {
  options_.heartbeat_timeout_ms = 50;
  options_.retry.initial_interval_ms = 10;
  options_.retry.maximum_attempts = 3;
  work_ = [this](const ActivityCall& c) {
    if (c.attempt == 1) gate_.Pass();  // hangs without a heartbeat
    return ActivityResult::Ok("attempt " + std::to_string(c.attempt));
  };
  StartEngine();
  ExecutionRecord r = RunToClose("silent");
  EXPECT_EQ(r.status, ExecutionStatus::kCompleted);
  EXPECT_EQ(r.result, "attempt 2");
  EXPECT_EQ(r.activity_retries, 1);
  EXPECT_EQ(Attempts(), (std::vector<int64_t>{1, 2}));
  auto done = Events("silent", EventType::kActivityTaskCompleted);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].attempt, 2);
  size_t events = engine_->ReadHistory("silent")->size();
  gate_.Open();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(engine_->ReadHistory("silent")->size(), events);
}

// An attempt that runs far longer than the heartbeat timeout but heartbeats keeps running.
// Time is the test's: it moves only inside the activity, and never by a heartbeat timeout
// between two heartbeats, however the threads are scheduled.
TEST_F(ActivityTimeoutTest, HeartbeatsKeepALongAttemptAlive) {
  ManualClock clock;
  options_.heartbeat_timeout_ms = 50;
  options_.retry.initial_interval_ms = 10;
  options_.retry.maximum_attempts = 3;
  work_ = [&clock](const ActivityCall& c) {
    for (int i = 0; i < 10; ++i) {
      clock.Advance(40);
      c.RecordHeartbeat();
      std::this_thread::sleep_for(20ms);  // lets the heartbeat checks run meanwhile
    }
    return ActivityResult::Ok("done");
  };
  StartEngine(&clock);
  ExecutionRecord r = RunToClose("beating");
  EXPECT_EQ(r.status, ExecutionStatus::kCompleted);
  EXPECT_EQ(r.result, "done");
  EXPECT_EQ(Attempts(), (std::vector<int64_t>{1}));
}

// Options recorded before heartbeat_timeout_ms existed decode with it 0, and the field
// round-trips.
TEST(ActivityOptionsCodec, HeartbeatTimeoutIsEncodedCompatibly) {
  ActivityOptions old;
  old.schedule_to_close_timeout_ms = 7;
  std::string old_bytes = EncodeActivityOptions(old);
  auto decoded = DecodeActivityOptions(old_bytes);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->heartbeat_timeout_ms, 0);
  EXPECT_EQ(decoded->schedule_to_close_timeout_ms, 7);
  ActivityOptions with = old;
  with.heartbeat_timeout_ms = 1234;
  std::string bytes = EncodeActivityOptions(with);
  EXPECT_EQ(bytes.substr(0, old_bytes.size()), old_bytes);
  decoded = DecodeActivityOptions(bytes);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->heartbeat_timeout_ms, 1234);
}

}  // namespace
}  // namespace papr::engine
