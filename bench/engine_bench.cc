// Micro-benchmarks of the engine's hot paths: event encode/decode, a durable append of one
// transition, and the replay of a 30,000-event history (the recovery cost of a W1 batch).
#include <benchmark/benchmark.h>

#include <filesystem>

#include "engine/engine.h"
#include "engine/workflow_context.h"
#include "storage/db.h"
#include "storage/keys.h"

namespace {

using namespace papr::engine;

HistoryEvent SampleEvent(int64_t id) {
  HistoryEvent e;
  e.event_id = id;
  e.type = EventType::kActivityTaskCompleted;
  e.time_ms = 1790000000000 + id;
  e.activity_id = id;
  e.scheduled_event_id = id - 1;
  e.attempt = 1;
  e.payload = "\x8a\x9c\x01";
  return e;
}

void BM_EncodeEvent(benchmark::State& state) {
  HistoryEvent e = SampleEvent(12345);
  for (auto _ : state) benchmark::DoNotOptimize(EncodeEvent(e));
}
BENCHMARK(BM_EncodeEvent);

void BM_DecodeEvent(benchmark::State& state) {
  std::string bytes = EncodeEvent(SampleEvent(12345));
  for (auto _ : state) benchmark::DoNotOptimize(DecodeEvent(bytes));
}
BENCHMARK(BM_DecodeEvent);

// One synced transition of `range(0)` events (group commit amortises the fsync).
void BM_AppendTransitionSynced(benchmark::State& state) {
  auto dir = std::filesystem::temp_directory_path() / "papr_bench_append";
  std::filesystem::remove_all(dir);
  auto db = papr::storage::Db::Open({dir.string(), true, false, ""});
  int64_t id = 1;
  for (auto _ : state) {
    papr::storage::WriteBatch wb;
    for (int i = 0; i < state.range(0); ++i, ++id) {
      wb.Put(papr::storage::Table::kHistory, papr::storage::HistoryKey("wf", id),
             EncodeEvent(SampleEvent(id)));
    }
    if (!(*db)->Write(wb).ok()) state.SkipWithError("write failed");
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  db->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_AppendTransitionSynced)->Arg(1)->Arg(10)->Arg(100);

WorkflowTask FanOut(WorkflowContext& ctx, std::string input) {
  int64_t n = std::stoll(input);
  for (int64_t i = 0; i < n; ++i) ctx.StartActivity("work", "", ActivityOptions{}, i);
  for (int64_t i = 0; i < n; ++i) co_await ctx.NextEvent();
  co_return WorkflowOutcome::Completed(std::to_string(n));
}

std::vector<HistoryEvent> FanOutHistory(int64_t n) {
  std::vector<HistoryEvent> h;
  auto add = [&](EventType t) -> HistoryEvent& {
    HistoryEvent e;
    e.event_id = static_cast<int64_t>(h.size()) + 1;
    e.type = t;
    e.time_ms = 1790000000000;
    h.push_back(e);
    return h.back();
  };
  HistoryEvent& s = add(EventType::kWorkflowExecutionStarted);
  s.workflow_type = "fanout";
  s.payload = std::to_string(n);
  for (int64_t i = 0; i < n; ++i) {
    HistoryEvent& e = add(EventType::kActivityTaskScheduled);
    e.activity_id = i;
    e.activity_type = "work";
  }
  for (int64_t i = 0; i < n; ++i) {
    add(EventType::kActivityTaskStarted).activity_id = i;
    HistoryEvent& c = add(EventType::kActivityTaskCompleted);
    c.activity_id = i;
    c.attempt = 1;
  }
  add(EventType::kWorkflowExecutionCompleted).payload = std::to_string(n);
  return h;
}

void BM_Replay30kEvents(benchmark::State& state) {
  Engine engine(nullptr, EngineOptions{});
  engine.RegisterWorkflow("fanout", FanOut);
  auto history = FanOutHistory(10000);  // 30,002 events
  for (auto _ : state) {
    auto s = engine.ReplayCheck("bench", history);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.counters["events"] = static_cast<double>(history.size());
}
BENCHMARK(BM_Replay30kEvents)->Unit(benchmark::kMillisecond);

}  // namespace
