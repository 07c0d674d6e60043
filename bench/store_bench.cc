// storage::Store micro-benchmark: a transition-sized write (36 rows, ~16 KB: about 156
// events' worth of bytes) on RocksDB and on a local PostgreSQL 15 (started here in a temp dir,
// synchronous_commit=on), with 1 and 8 writer threads. Counters: writes/s (items_per_second),
// rows per commit, round trips per commit and WAL fsyncs/s (pg_stat_wal.wal_sync) on
// Postgres. Arg 1: the batch also Inserts (put-if-absent) its execution row.
//   build/bin/store_bench --benchmark_min_time=3
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "storage/keys.h"
#include "storage/postgres/postgres_store.h"
#include "storage/rocksdb/rocksdb_store.h"
#include "tests/storage/pg_harness.h"

namespace papr::storage {
namespace {

testing::PgServer* g_pg = nullptr;
std::unique_ptr<Store> g_store;
std::string g_db;
std::filesystem::path g_rocks_dir;
std::atomic<int64_t> g_next_workflow{0};
PgStoreStats g_stats_before;
int64_t g_wal_syncs_before = 0;

int64_t WalSyncs() {
  auto syncs = g_pg->Query(g_db, "SELECT wal_sync FROM pg_stat_wal");
  return syncs.ok() ? std::stoll(*syncs) : 0;
}

Batch TransitionBatch(int64_t workflow, bool insert) {
  std::string id = "wf-" + std::to_string(workflow);
  Batch batch;
  for (int e = 1; e <= 30; ++e) batch.Put(Table::kHistory, HistoryKey(id, e), std::string(400, 'e'));
  if (insert) {
    batch.Insert(Table::kExecutions, ExecutionKey(id), std::string(2000, 'x'));
  } else {
    batch.Put(Table::kExecutions, ExecutionKey(id), std::string(2000, 'x'));
  }
  for (int a = 1; a <= 3; ++a) batch.Put(Table::kActivities, ActivityKey(id, a), std::string(200, 'a'));
  batch.Put(Table::kVisibility, VisibilityKey(1, 0, id), std::string(100, 'v'));
  batch.AddCounters(Table::kUsage, UsageKey("bench-user"), 1, 30);
  return batch;
}

void OpenStore(bool postgres) {
  if (!postgres) {
    g_rocks_dir = std::filesystem::temp_directory_path() /
                  ("papr_store_bench_" + std::to_string(g_next_workflow.fetch_add(1)));
    std::filesystem::remove_all(g_rocks_dir);
    DbOptions options;
    options.path = g_rocks_dir.string();
    g_store = std::move(RocksDbStore::Open(options)).value();
    return;
  }
  g_db = std::move(g_pg->CreateDatabase()).value();
  PgStoreOptions options;
  options.url = g_pg->Url(g_db);
  options.pool_size = 8;
  g_store = std::move(PostgresStore::Open(options)).value();
  g_stats_before = static_cast<PostgresStore&>(*g_store).stats();
  g_wal_syncs_before = WalSyncs();
}

void CloseStore(benchmark::State& state, bool postgres) {
  if (postgres) {
    PgStoreStats stats = static_cast<PostgresStore&>(*g_store).stats();
    double commits = static_cast<double>(stats.commits - g_stats_before.commits);
    state.counters["rows/commit"] = (stats.rows - g_stats_before.rows) / commits;
    state.counters["round_trips/commit"] = (stats.round_trips - g_stats_before.round_trips) / commits;
    state.counters["statements/commit"] = (stats.statements - g_stats_before.statements) / commits;
    state.counters["fsyncs"] = benchmark::Counter(static_cast<double>(WalSyncs() - g_wal_syncs_before),
                                                  benchmark::Counter::kIsRate);
  }
  g_store.reset();
  if (!postgres) std::filesystem::remove_all(g_rocks_dir);
}

template <bool kPostgres>
void BM_TransitionWrite(benchmark::State& state) {
  if (kPostgres && g_pg == nullptr) {
    state.SkipWithError("PostgreSQL 15 binaries not found");
    return;
  }
  if (state.thread_index() == 0) OpenStore(kPostgres);
  bool insert = state.range(0) == 1;
  for (auto _ : state) {
    Batch batch = TransitionBatch(g_next_workflow.fetch_add(1), insert);
    Status s = g_store->Write(batch);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) CloseStore(state, kPostgres);
}

BENCHMARK_TEMPLATE(BM_TransitionWrite, false)->Name("RocksDb/TransitionWrite")
    ->Arg(0)->Arg(1)->Threads(1)->Threads(8)->UseRealTime();
BENCHMARK_TEMPLATE(BM_TransitionWrite, true)->Name("Postgres/TransitionWrite")
    ->Arg(0)->Arg(1)->Threads(1)->Threads(8)->UseRealTime();

}  // namespace
}  // namespace papr::storage

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::unique_ptr<papr::storage::testing::PgServer> pg;
  if (papr::storage::testing::PgServer::BinariesPresent()) {
    pg = std::make_unique<papr::storage::testing::PgServer>();
    papr::Status started = pg->Start();
    if (!started.ok()) {
      std::fprintf(stderr, "store_bench: %s\n", started.ToString().c_str());
      return 1;
    }
    papr::storage::g_pg = pg.get();
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
