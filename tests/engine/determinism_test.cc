// Determinism and versioning: full command comparison on replay, recorded inputs on
// re-dispatch, undecodable events and gaps, reset/fail of executions that cannot resume,
// GetVersion, and the fixed Random() seed. Every test runs a real Engine on a real RocksDB
// and restarts it where the behaviour is about recovery.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/engine/test_printers.h"

#include "common/byte_codec.h"
#include "engine/engine.h"
#include "engine/history_rows.h"
#include "engine/workflow.h"
#include "engine/workflow_context.h"
#include "storage/db.h"
#include "storage/keys.h"

namespace papr::engine {
namespace {

using namespace std::chrono_literals;

// Runs one activity per part of `input` items, `part` items per activity (input "lo-hi"),
// then completes with the number of activities.
WorkflowTask Chunker(WorkflowContext& ctx, int64_t items, int64_t part, ActivityOptions options) {
  int64_t n = 0;
  for (int64_t lo = 0; lo < items; lo += part, ++n) {
    ctx.StartActivity("part", std::to_string(lo) + "-" + std::to_string(std::min(items, lo + part)),
                      options, n);
  }
  for (int64_t i = 0; i < n; ++i) co_await ctx.NextEvent();
  co_return WorkflowOutcome::Completed(std::to_string(n));
}

// Version 2 of Chunker: 3 items per activity, behind GetVersion("part-size").
WorkflowTask ChunkerV2(WorkflowContext& ctx, int64_t items) {
  int64_t v = ctx.GetVersion("part-size", WorkflowContext::kDefaultVersion, 1);
  return Chunker(ctx, items, v == WorkflowContext::kDefaultVersion ? 2 : 3, ActivityOptions{});
}

// Starts one child "<id>/<suffix>" of type "waiter" and waits for it.
WorkflowTask ParentOf(WorkflowContext& ctx, std::string suffix) {
  ctx.StartChildWorkflow(ctx.workflow_id() + "/" + suffix, "waiter", "");
  co_await ctx.NextEvent();
  co_return WorkflowOutcome::Completed("child done");
}

WorkflowTask Waiter(WorkflowContext& ctx, std::string) {
  co_await ctx.NextEvent();
  co_return WorkflowOutcome::Completed("signaled");
}

WorkflowTask SleepFor(WorkflowContext& ctx, int64_t ms) {
  ctx.StartTimer(1, ms);
  co_await ctx.NextEvent();
  co_return WorkflowOutcome::Completed("fired");
}

WorkflowTask RandomNumbers(WorkflowContext& ctx, std::string) {
  std::string out;
  for (int i = 0; i < 3; ++i) out += (i ? "," : "") + std::to_string(ctx.Random());
  co_return WorkflowOutcome::Completed(out);
}

class DeterminismTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("papr_determinism_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    OpenDb();
  }
  void TearDown() override {
    engine_.reset();
    db_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void OpenDb() {
    storage::DbOptions o;
    o.path = (dir_ / "db").string();
    auto db = storage::Db::Open(o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }
  void Restart() {
    engine_.reset();
    db_.reset();
    OpenDb();
  }

  // A new engine with `workflows` registered and the "part" activity (records its inputs).
  // With `run_activities` false no activity ever runs: what it schedules stays in flight.
  void StartEngine(const std::map<std::string, WorkflowFn>& workflows, bool run_activities = true) {
    EngineOptions o;
    o.activity_workers = run_activities ? 2 : 0;
    o.io_activity_workers = 0;
    o.runner_threads = 2;
    engine_ = std::make_unique<Engine>(db_.get(), o);
    for (const auto& [type, fn] : workflows) engine_->RegisterWorkflow(type, fn);
    engine_->RegisterActivity("part", [this](const ActivityCall& c) {
      std::lock_guard lock(mu_);
      inputs_.push_back(c.input);
      return ActivityResult::Ok("done " + c.input);
    });
    Status s = engine_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  Status StartTyped(const std::string& id, const std::string& type, const std::string& input = "") {
    StartOptions o;
    o.workflow_id = id;
    o.workflow_type = type;
    o.input = input;
    return engine_->StartWorkflow(std::move(o));
  }

  bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
    for (auto deadline = std::chrono::steady_clock::now() + timeout;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(5ms)) {
      if (pred()) return true;
    }
    return pred();
  }
  ExecutionStatus StatusOf(const std::string& id) {
    auto r = engine_->Describe(id);
    return r.ok() ? r->status : ExecutionStatus::kRunning;
  }
  ExecutionRecord WaitClosed(const std::string& id) {
    EXPECT_TRUE(WaitFor([&] { return StatusOf(id) != ExecutionStatus::kRunning; })) << id;
    return *engine_->Describe(id);
  }
  int64_t Events(const std::string& id) {
    auto h = engine_->ReadHistory(id);
    return h.ok() ? static_cast<int64_t>(h->size()) : -1;
  }
  std::vector<HistoryEvent> History(const std::string& id) {
    auto h = engine_->ReadHistory(id);
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? *h : std::vector<HistoryEvent>{};
  }
  // Rewrites the stored history of `id` (the engine shut down) as rows ending at each of
  // `row_ends` (history pages, engine/history_rows.h); empty: one row per event, each as its
  // event's bytes alone, as written before pages.
  void FourEventsInOneRow(std::vector<HistoryEvent>* h);
  void RewriteRows(const std::string& id, std::vector<uint64_t> row_ends = {}) {
    std::vector<HistoryEvent> events;
    storage::WriteBatch wb;
    Status scan = db_->ScanPrefix(storage::Table::kHistory, storage::HistoryPrefix(id),
                                  [&](std::string_view key, std::string_view value) {
                                    EXPECT_TRUE(DecodeHistoryRow(value, &events).ok());
                                    wb.Delete(storage::Table::kHistory, key);
                                    return true;
                                  });
    ASSERT_TRUE(scan.ok()) << scan.ToString();
    size_t begin = 0;
    for (size_t i = 0; i < events.size(); ++i) {
      auto last = static_cast<uint64_t>(events[i].event_id);
      std::string key = storage::HistoryKey(id, last);
      if (row_ends.empty()) {
        wb.Put(storage::Table::kHistory, key, EncodeEvent(events[i]));
      } else if (std::count(row_ends.begin(), row_ends.end(), last)) {
        wb.Put(storage::Table::kHistory, key,
               EncodeHistoryRow(std::span(events).subspan(begin, i + 1 - begin)));
        begin = i + 1;
      }
    }
    ASSERT_EQ(begin == events.size(), !row_ends.empty()) << "row_ends must end at the last event";
    ASSERT_TRUE(db_->Write(wb).ok());
  }
  uint64_t HistoryRows(const std::string& id) {
    uint64_t rows = 0;
    EXPECT_TRUE(db_->ScanPrefix(storage::Table::kHistory, storage::HistoryPrefix(id),
                                [&](std::string_view, std::string_view) { return ++rows, true; })
                    .ok());
    return rows;
  }

  // Expects recovery to have refused `id` with a reason containing each of `parts`.
  void ExpectUnresumable(const std::string& id, std::initializer_list<std::string> parts) {
    auto why = engine_->ResumeFailure(id);
    ASSERT_TRUE(why.has_value()) << id << " was resumed";
    for (const auto& p : parts) EXPECT_NE(why->find(p), std::string::npos) << *why;
    EXPECT_EQ(StatusOf(id), ExecutionStatus::kRunning);
    EXPECT_NE(engine_->MetricsText().find("papr_engine_workflows_unresumable 1"),
              std::string::npos);
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<Engine> engine_;
  std::mutex mu_;
  std::vector<std::string> inputs_;
};

WorkflowFn ChunkerOf(int64_t part, ActivityOptions options = {}) {
  return [part, options](WorkflowContext& ctx, std::string input) {
    return Chunker(ctx, std::stoll(input), part, options);
  };
}

// ---- Full command comparison (recovery and ReplayCheck)

TEST_F(DeterminismTest, ChangedActivityInputFailsRecoveryAndRunsNothing) {
  StartEngine({{"chunker", ChunkerOf(2)}}, /*run_activities=*/false);
  ASSERT_TRUE(StartTyped("wf", "chunker", "6").ok());
  ASSERT_TRUE(WaitFor([&] { return Events("wf") == 4; }));  // Started + 3 Scheduled
  engine_->Shutdown();
  Restart();
  // Same activity ids and type, other inputs ("0-3", "3-6"): a changed chunk size.
  StartEngine({{"chunker", ChunkerOf(3)}});
  ExpectUnresumable("wf", {"non-determinism at event 2", "activity input differs"});
  std::this_thread::sleep_for(100ms);
  {
    std::lock_guard lock(mu_);
    EXPECT_TRUE(inputs_.empty()) << "an activity ran with the live code's input " << inputs_[0];
  }
  Status replay = engine_->ReplayCheck("wf", History("wf"));
  EXPECT_NE(replay.message().find("non-determinism at event 2: activity input differs"),
            std::string::npos)
      << replay.ToString();
}

TEST_F(DeterminismTest, ChangedActivityOptionsAreNonDeterminism) {
  StartEngine({{"chunker", ChunkerOf(2)}}, false);
  ASSERT_TRUE(StartTyped("wf", "chunker", "2").ok());
  ASSERT_TRUE(WaitFor([&] { return Events("wf") == 2; }));
  engine_->Shutdown();
  Restart();
  ActivityOptions live;
  live.start_to_close_timeout_ms = 50;  // e.g. read from a changed config
  StartEngine({{"chunker", ChunkerOf(2, live)}});
  ExpectUnresumable("wf", {"non-determinism at event 2", "activity options differ"});
}

TEST_F(DeterminismTest, ChangedChildIdFailsRecoveryInsteadOfHangingTheParent) {
  auto parent = [](std::string suffix) {
    return [suffix](WorkflowContext& ctx, std::string) { return ParentOf(ctx, suffix); };
  };
  StartEngine({{"parent", parent("chunk-0")}, {"waiter", Waiter}});
  ASSERT_TRUE(StartTyped("p", "parent").ok());
  ASSERT_TRUE(WaitFor([&] { return engine_->Describe("p/chunk-0").ok(); }));
  engine_->Shutdown();
  Restart();
  StartEngine({{"parent", parent("part-0")}, {"waiter", Waiter}});
  ExpectUnresumable("p", {"non-determinism at event 2", "child workflow id differs",
                          "'p/chunk-0'", "'p/part-0'"});
  EXPECT_FALSE(engine_->Describe("p/part-0").ok()) << "the live code's child was started";
}

TEST_F(DeterminismTest, ChangedTimerDurationIsNonDeterminism) {
  auto sleeper = [](int64_t ms) {
    return [ms](WorkflowContext& ctx, std::string) { return SleepFor(ctx, ms); };
  };
  StartEngine({{"sleeper", sleeper(60000)}});
  ASSERT_TRUE(StartTyped("s", "sleeper").ok());
  ASSERT_TRUE(WaitFor([&] { return Events("s") == 2; }));
  // The same code replays (the duration, not the wall-clock firing time, is compared).
  EXPECT_TRUE(engine_->ReplayCheck("s", History("s")).ok());
  Engine other(db_.get(), {});
  other.RegisterWorkflow("sleeper", sleeper(30000));
  Status s = other.ReplayCheck("s", History("s"));
  EXPECT_NE(s.message().find("non-determinism at event 2: timer duration in ms differs "
                             "(recorded 60000, issued 30000)"),
            std::string::npos)
      << s.ToString();
}

// ---- Re-dispatch uses the recorded input and options

TEST_F(DeterminismTest, ResumedActivitiesRunWithTheRecordedInput) {
  StartEngine({{"chunker", ChunkerOf(2)}}, false);
  ASSERT_TRUE(StartTyped("wf", "chunker", "4").ok());
  ASSERT_TRUE(WaitFor([&] { return Events("wf") == 3; }));
  engine_->Shutdown();
  Restart();
  StartEngine({{"chunker", ChunkerOf(2)}});
  EXPECT_EQ(WaitClosed("wf").result, "2");
  std::lock_guard lock(mu_);
  std::sort(inputs_.begin(), inputs_.end());
  EXPECT_EQ(inputs_, (std::vector<std::string>{"0-2", "2-4"}));
}

// ---- Undecodable events and gaps

TEST_F(DeterminismTest, UndecodableEventStopsRecoveryNamingIt) {
  StartEngine({{"chunker", ChunkerOf(2)}}, false);
  ASSERT_TRUE(StartTyped("wf", "chunker", "6").ok());
  ASSERT_TRUE(WaitFor([&] { return Events("wf") == 4; }));
  engine_->Shutdown();
  RewriteRows("wf");  // one row per event, as before history pages
  storage::WriteBatch wb;
  wb.Put(storage::Table::kHistory, storage::HistoryKey("wf", 3), "\x07garbage");
  ASSERT_TRUE(db_->Write(wb).ok());
  Restart();
  StartEngine({{"chunker", ChunkerOf(2)}});
  ExpectUnresumable("wf", {"event 3 of workflow wf does not decode"});
  // Nothing was appended over it (today's main dropped it and reused its id).
  auto row = db_->Get(storage::Table::kHistory, storage::HistoryKey("wf", 3));
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(**row, "\x07garbage");
  auto history = engine_->ReadHistory("wf");
  EXPECT_NE(history.status().message().find("event 3 of workflow wf does not decode"),
            std::string::npos)
      << history.status().ToString();
}

TEST_F(DeterminismTest, GapInEventIdsStopsRecovery) {
  StartEngine({{"chunker", ChunkerOf(2)}}, false);
  ASSERT_TRUE(StartTyped("wf", "chunker", "6").ok());
  ASSERT_TRUE(WaitFor([&] { return Events("wf") == 4; }));
  engine_->Shutdown();
  RewriteRows("wf");
  storage::WriteBatch wb;
  wb.Delete(storage::Table::kHistory, storage::HistoryKey("wf", 2));
  ASSERT_TRUE(db_->Write(wb).ok());
  Restart();
  StartEngine({{"chunker", ChunkerOf(2)}});
  ExpectUnresumable("wf", {"gap", "event 2 is missing"});
}

TEST_F(DeterminismTest, OneCommitIsOneHistoryRow) {
  StartEngine({{"chunker", ChunkerOf(2)}}, false);
  ASSERT_TRUE(StartTyped("wf", "chunker", "6").ok());
  // Two commits: the start's (Started), the first task's (3 ActivityTaskScheduled).
  ASSERT_TRUE(WaitFor([&] { return Events("wf") == 4; }));
  EXPECT_EQ(HistoryRows("wf"), 2u);
  auto row = db_->Get(storage::Table::kHistory, storage::HistoryKey("wf", 4));
  ASSERT_TRUE(row.ok() && *row) << "the row is keyed by its last event";
  auto middle = db_->Get(storage::Table::kHistory, storage::HistoryKey("wf", 3));
  ASSERT_TRUE(middle.ok() && !*middle);
  // Reads from the middle of a row start at the event asked for.
  auto tail = engine_->ReadHistory("wf", 2, 1);
  ASSERT_TRUE(tail.ok()) << tail.status().ToString();
  ASSERT_EQ(tail->size(), 1u);
  EXPECT_EQ((*tail)[0].event_id, 3);
}

TEST_F(DeterminismTest, HistoriesOfOneRowPerEventStillResume) {
  StartEngine({{"chunker", ChunkerOf(2)}}, false);
  ASSERT_TRUE(StartTyped("wf", "chunker", "6").ok());
  ASSERT_TRUE(WaitFor([&] { return Events("wf") == 4; }));
  engine_->Shutdown();
  RewriteRows("wf");
  Restart();
  StartEngine({{"chunker", ChunkerOf(2)}});
  ExecutionRecord r = WaitClosed("wf");
  EXPECT_EQ(r.result, "3");
  auto h = History("wf");
  for (size_t i = 0; i < h.size(); ++i) EXPECT_EQ(h[i].event_id, static_cast<int64_t>(i + 1));
  EXPECT_LT(HistoryRows("wf"), h.size()) << "new commits are written as pages";
}

// A chunker "wf" of four events, stored as one row (events 1-4), the engine shut down: `*h`.
void DeterminismTest::FourEventsInOneRow(std::vector<HistoryEvent>* h) {
  StartEngine({{"chunker", ChunkerOf(2)}}, false);
  ASSERT_TRUE(StartTyped("wf", "chunker", "6").ok());
  ASSERT_TRUE(WaitFor([&] { return Events("wf") == 4; }));
  *h = History("wf");
  engine_->Shutdown();
  RewriteRows("wf", {4});
}

TEST_F(DeterminismTest, UndecodableEventInsideAPageStopsRecoveryNamingIt) {
  std::vector<HistoryEvent> h;
  ASSERT_NO_FATAL_FAILURE(FourEventsInOneRow(&h));
  std::string page = EncodeHistoryRow(std::span(h).subspan(0, 2));
  PutLengthPrefixed(&page, "\x07garbage");  // event 3
  PutLengthPrefixed(&page, EncodeEvent(h[3]));
  storage::WriteBatch wb;
  wb.Put(storage::Table::kHistory, storage::HistoryKey("wf", 4), page);
  ASSERT_TRUE(db_->Write(wb).ok());
  Restart();
  StartEngine({{"chunker", ChunkerOf(2)}});
  ExpectUnresumable("wf", {"event 3 of workflow wf does not decode"});
}

TEST_F(DeterminismTest, RowKeyedPastItsLastEventStopsRecovery) {
  std::vector<HistoryEvent> h;
  ASSERT_NO_FATAL_FAILURE(FourEventsInOneRow(&h));
  storage::WriteBatch wb;
  wb.Delete(storage::Table::kHistory, storage::HistoryKey("wf", 4));
  wb.Put(storage::Table::kHistory, storage::HistoryKey("wf", 3),
         EncodeHistoryRow(std::span(h).subspan(0, 2)));
  wb.Put(storage::Table::kHistory, storage::HistoryKey("wf", 4),
         EncodeHistoryRow(std::span(h).subspan(2, 2)));
  ASSERT_TRUE(db_->Write(wb).ok());
  Restart();
  StartEngine({{"chunker", ChunkerOf(2)}});
  ExpectUnresumable("wf", {"history row 3 of workflow wf ends with event 2"});
}

// ---- Repairs: reset and fail

TEST_F(DeterminismTest, ResetCutsBackToWhatReplaysAndTheExecutionCompletes) {
  StartEngine({{"chunker", ChunkerOf(2)}}, false);
  ASSERT_TRUE(StartTyped("wf", "chunker", "6").ok());
  ASSERT_TRUE(WaitFor([&] { return Events("wf") == 4; }));
  engine_->Shutdown();
  RewriteRows("wf");
  storage::WriteBatch wb;
  wb.Put(storage::Table::kHistory, storage::HistoryKey("wf", 4), "\x07garbage");
  ASSERT_TRUE(db_->Write(wb).ok());
  Restart();
  {
    Engine admin(db_.get(), {});  // engine-admin's direct mode: not started
    admin.RegisterWorkflow("chunker", ChunkerOf(2));
    auto kept = admin.Reset("wf");
    ASSERT_TRUE(kept.ok()) << kept.status().ToString();
    EXPECT_EQ(*kept, 3);
  }
  StartEngine({{"chunker", ChunkerOf(2)}});
  EXPECT_FALSE(engine_->ResumeFailure("wf").has_value());
  ExecutionRecord r = WaitClosed("wf");
  EXPECT_EQ(r.status, ExecutionStatus::kCompleted);
  EXPECT_EQ(r.result, "3");
  auto h = History("wf");
  for (size_t i = 0; i < h.size(); ++i) EXPECT_EQ(h[i].event_id, static_cast<int64_t>(i + 1));
}

TEST_F(DeterminismTest, ResetSplitsThePageItCutsAndKeepsItsHead) {
  StartEngine({{"chunker", ChunkerOf(2)}}, false);
  ASSERT_TRUE(StartTyped("wf", "chunker", "6").ok());
  ASSERT_TRUE(WaitFor([&] { return Events("wf") == 4; }));
  std::vector<HistoryEvent> h = History("wf");
  engine_->Shutdown();
  RewriteRows("wf", {4});  // one row of events 1-4
  std::string page = EncodeHistoryRow(std::span(h).subspan(0, 3));
  PutLengthPrefixed(&page, "\x07garbage");  // event 4, in the one row of events 1-4
  storage::WriteBatch wb;
  wb.Put(storage::Table::kHistory, storage::HistoryKey("wf", 4), page);
  ASSERT_TRUE(db_->Write(wb).ok());
  Restart();
  {
    Engine admin(db_.get(), {});
    admin.RegisterWorkflow("chunker", ChunkerOf(2));
    auto kept = admin.Reset("wf");
    ASSERT_TRUE(kept.ok()) << kept.status().ToString();
    EXPECT_EQ(*kept, 3);
  }
  auto head = db_->Get(storage::Table::kHistory, storage::HistoryKey("wf", 3));
  ASSERT_TRUE(head.ok() && *head) << "the kept events are a row ending at the cut";
  std::vector<HistoryEvent> kept;
  ASSERT_TRUE(DecodeHistoryRow(**head, &kept).ok());
  EXPECT_EQ(kept, std::vector<HistoryEvent>(h.begin(), h.begin() + 3));
  StartEngine({{"chunker", ChunkerOf(2)}});
  ExecutionRecord r = WaitClosed("wf");
  EXPECT_EQ(r.status, ExecutionStatus::kCompleted);
  auto after = History("wf");
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].event_id, static_cast<int64_t>(i + 1));
  }
}

TEST_F(DeterminismTest, FailClosesAnUnresumableExecution) {
  StartEngine({{"chunker", ChunkerOf(2)}}, false);
  ASSERT_TRUE(StartTyped("wf", "chunker", "6").ok());
  ASSERT_TRUE(WaitFor([&] { return Events("wf") == 4; }));
  engine_->Shutdown();
  Restart();
  StartEngine({{"chunker", ChunkerOf(3)}});
  ASSERT_TRUE(engine_->ResumeFailure("wf").has_value());
  Status live = engine_->ForceFail("chunker-unknown", "x");
  EXPECT_EQ(live.code(), StatusCode::kNotFound) << live.ToString();
  ASSERT_TRUE(engine_->ForceFail("wf", "code changed; operator gave up").ok());
  EXPECT_FALSE(engine_->ResumeFailure("wf").has_value());
  auto r = engine_->Describe("wf");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, ExecutionStatus::kFailed);
  EXPECT_EQ(r->failure, "code changed; operator gave up");
  auto h = History("wf");
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(h.back().type, EventType::kWorkflowExecutionFailed);
  EXPECT_EQ(engine_->ForceFail("wf", "again").code(), StatusCode::kFailedPrecondition);
  auto open = engine_->ListByStatus(ExecutionStatus::kRunning, 0);
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE(open->empty());
}

// ---- GetVersion

TEST_F(DeterminismTest, GetVersionKeepsInFlightExecutionsOnTheOldCodeAcrossRestart) {
  // Version 1 of the code (no GetVersion yet): 2 items per activity.
  StartEngine({{"chunker", ChunkerOf(2)}}, /*run_activities=*/false);
  ASSERT_TRUE(StartTyped("old", "chunker", "6").ok());
  ASSERT_TRUE(WaitFor([&] { return Events("old") == 4; }));
  engine_->Shutdown();
  Restart();
  // Version 2 registered: 3 items per activity behind GetVersion("part-size").
  WorkflowFn v2 = [](WorkflowContext& ctx, std::string input) {
    return ChunkerV2(ctx, std::stoll(input));
  };
  StartEngine({{"chunker", v2}});
  EXPECT_FALSE(engine_->ResumeFailure("old").has_value()) << *engine_->ResumeFailure("old");
  EXPECT_EQ(WaitClosed("old").result, "3");  // finished as it began: 3 parts of 2
  ASSERT_TRUE(StartTyped("new", "chunker", "6").ok());
  EXPECT_EQ(WaitClosed("new").result, "2");  // 2 parts of 3
  auto old_h = History("old"), new_h = History("new");
  for (const auto& e : old_h) EXPECT_NE(e.type, EventType::kMarkerRecorded);
  ASSERT_GE(new_h.size(), 2u);
  EXPECT_EQ(new_h[1].type, EventType::kMarkerRecorded);
  EXPECT_EQ(new_h[1].signal_name, "Version");
  EXPECT_EQ(new_h[1].payload, "part-size");
  EXPECT_EQ(new_h[1].version, 1);
  // Both replay with version 2 of the code.
  EXPECT_TRUE(engine_->ReplayCheck("old", old_h).ok());
  EXPECT_TRUE(engine_->ReplayCheck("new", new_h).ok());
  {
    std::lock_guard lock(mu_);
    std::sort(inputs_.begin(), inputs_.end());
    EXPECT_EQ(inputs_, (std::vector<std::string>{"0-2", "0-3", "2-4", "3-6", "4-6"}));
  }
  // Code that dropped version DEFAULT (min_supported 1) refuses the old history...
  Engine v3(db_.get(), {});
  v3.RegisterWorkflow("chunker", [](WorkflowContext& ctx, std::string input) {
    int64_t v = ctx.GetVersion("part-size", 1, 1);
    return Chunker(ctx, std::stoll(input), v == 1 ? 3 : 2, ActivityOptions{});
  });
  Status s = v3.ReplayCheck("old", old_h);
  EXPECT_NE(s.message().find("non-determinism at event 2: GetVersion('part-size') found version -1"),
            std::string::npos)
      << s.ToString();
  EXPECT_TRUE(v3.ReplayCheck("new", new_h).ok());
  // ... and code whose range excludes a recorded version refuses that one.
  Engine v4(db_.get(), {});
  v4.RegisterWorkflow("chunker", [](WorkflowContext& ctx, std::string input) {
    ctx.GetVersion("part-size", 2, 3);
    return Chunker(ctx, std::stoll(input), 3, ActivityOptions{});
  });
  s = v4.ReplayCheck("new", new_h);
  EXPECT_NE(s.message().find("found version 1 but the code supports 2..3"), std::string::npos)
      << s.ToString();
}

// ---- Random()

TEST_F(DeterminismTest, RandomIsAFixedFunctionOfTheWorkflowId) {
  StartEngine({{"random", RandomNumbers}});
  ASSERT_TRUE(StartTyped("wf-random", "random").ok());
  // splitmix64 over FNV-1a 64 of "wf-random": the same numbers on every build and platform.
  EXPECT_EQ(WaitClosed("wf-random").result,
            "12655514692299029434,5177294359365034744,9540208155259740384");
}

}  // namespace
}  // namespace papr::engine
