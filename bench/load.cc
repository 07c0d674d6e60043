// bench/load: the end-to-end load driver. Starts the real papr-server (cloud edition, fsync
// on) on 127.0.0.1 with a temp data dir and prints the table of issue #3:
//   W1 one 10,000-memory batch, POST to completed (time, peak RSS)
//   W2 1,000 batches of 10, 50 in flight (batches/s, submit to completed)
//   W3 200 sequential 1-memory batches, submit to completed (p50/p99)
//   W4 W1 with kill -9 at ~50%, restart to completed (time, lost, duplicated)
//   W5 one 100,000-memory batch (chunked into child workflows), POST to completed, peak RSS
//   SEARCH load N memories (batches of 10,000), then 300 one-to-three-word queries, top 10,
//          p50/p99 through HTTP
//   GROWTH R rounds of 30 batches x 10,000 submitted at once: memories/s per round, last/first
//   BURST  B batches x 10,000 submitted at once (default 100): time, memories/s, RSS idle
//          before, peak, 5 s after the load ends and once the server is idle again
// Usage: load [--only W1,W2,...] [--memories N] [--rounds R] [--batches B] [--backend B]
//             [--query-rounds Q] (SEARCH: Q runs of the 300 queries, the last one reported)
//        load --nodes 1,2,4 (cluster mode: bench/load_cluster.h)
// (N replaces 10000 in W1/W4 and 200,000 in SEARCH; R defaults to 3, B to 30 per GROWTH round
// and 100 for BURST; W5, SEARCH, GROWTH and BURST are not in the default set: they take
// minutes; --backend postgres prints the tables on RocksDB and then on a throwaway PostgreSQL)
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <simdjson.h>

#include "bench/bench_corpus.h"
#include "bench/load_cluster.h"
#include "bench/load_http.h"
#include "common/json_writer.h"
#include "tests/storage/pg_harness.h"
#include "net/http_client.h"
#include "tests/integration/server_process.h"

namespace {

using papr::bench::BatchBody;
using papr::bench::Counts;
using papr::bench::Field;
using papr::bench::Finished;
using papr::bench::GetCounts;
using papr::bench::Http;
using papr::bench::Ms;
using papr::bench::SearchQueries;
using papr::bench::SubmitAndWait;
using papr::integration::ServerOptions;
using papr::integration::ServerProcess;
using Clock = std::chrono::steady_clock;

// A "VmHWM:" (peak RSS) or "VmRSS:" (current) line of /proc/<pid>/status, in kB.
long StatusKb(pid_t pid, const std::string& field) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(field.size()));
  }
  return -1;
}

long PeakRssKb(pid_t pid) { return StatusKb(pid, "VmHWM:"); }

// The value of an unlabelled sample `name` in the server's /metrics; -1 when absent.
double MetricValue(const Http& http, const std::string& name) {
  auto r = http.Call("GET", "/metrics");
  if (!r.ok()) return -1;
  size_t at = 0;
  while ((at = r->body.find(name + " ", at)) != std::string::npos) {
    if (at == 0 || r->body[at - 1] == '\n') return std::stod(r->body.substr(at + name.size() + 1));
    at += name.size();
  }
  return -1;
}

// A session on the PostgreSQL the load started; null on RocksDB or if it does not answer.
std::unique_ptr<papr::storage::testing::PgSession> LoadPostgres() {
  const char* url = std::getenv("PAPR_TEST_POSTGRES_URL");
  if (url == nullptr) return nullptr;
  auto session = papr::storage::testing::PgSession::Connect(url);
  return session.ok() ? std::move(session).value() : nullptr;
}

// pg_stat_statements from zero (PostgreSQL only).
void ResetStatementStats() {
  auto session = LoadPostgres();
  if (!session) return;
  (void)session->Query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  (void)session->Query("SELECT pg_stat_statements_reset()");
}

// Where PostgreSQL's time went per batch: statements and transactions, and the costliest
// statements (calls and execution ms per batch, rows per call).
void PrintStatementStats(int batches) {
  auto session = LoadPostgres();
  if (!session) return;
  const std::string per = std::to_string(batches) + ".0";
  auto totals = session->Query(
      "SELECT round(sum(calls) / " + per + ", 1) || ' statements per batch, ' || "
      "round(sum(calls) FILTER (WHERE query = 'COMMIT') / " + per + ", 2) || ' transactions' "
      "FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat%'");
  auto top = session->Query(
      "SELECT string_agg(format('  %s per batch, %s ms, %s rows each: %s', round(calls / " + per +
      ", 2), round((total_exec_time / " + per + ")::numeric, 3), round(rows::numeric / calls, 1), "
      "left(regexp_replace(query, '\\s+', ' ', 'g'), 90)), E'\n' ORDER BY total_exec_time DESC) "
      "FROM (SELECT * FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat%' "
      "ORDER BY total_exec_time DESC LIMIT 8) s");
  if (!totals.ok() || !top.ok()) return;
  std::printf("W2 on PostgreSQL: %s; costliest statements:\n%s\n", totals->c_str(), top->c_str());
}

// WAL fsyncs so far of the PostgreSQL the load started (pg_stat_wal); -1 on RocksDB.
double WalSyncs() {
  auto session = LoadPostgres();
  if (!session) return -1;
  auto syncs = session->Query("SELECT wal_sync FROM pg_stat_wal");
  return syncs.ok() && !syncs->empty() ? std::stod(*syncs) : -1;
}

ServerOptions CloudOptions() {
  ServerOptions o;
  o.config_file = papr::integration::ConfigPath("cloud.yaml");
  return o;
}

// Pages through results: (succeeded, distinct memory ids).
std::pair<int64_t, int64_t> CheckResults(const Http& http, const std::string& id) {
  int64_t succeeded = 0;
  std::set<std::string> ids;
  std::string after = "-1";
  while (true) {
    auto r = http.Call("GET", "/v1/memory/batch/" + id + "/results?limit=1000&after=" + after);
    if (!r.ok()) break;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(r->body).get(doc) != simdjson::SUCCESS) break;
    for (auto item : doc["results"].get_array()) {
      std::string_view st, mid;
      if (item["status"].get(st) != simdjson::SUCCESS) continue;
      if (item["memoryId"].get(mid) != simdjson::SUCCESS) continue;
      if (st == "succeeded") ++succeeded;
      ids.insert(std::string(mid));
    }
    int64_t next;
    if (doc["next_after"].get(next) != simdjson::SUCCESS) break;
    after = std::to_string(next);
  }
  return {succeeded, static_cast<int64_t>(ids.size())};
}

void W1(int64_t n) {
  ServerOptions options = CloudOptions();
  options.extra_yaml = "features:\n  max_batch_size: " + std::to_string(std::max<int64_t>(n, 10000)) + "\n";
  ServerProcess server(options);
  if (!server.Start()) return (void)std::printf("W1: server did not start\n");
  Http http{server.port()};
  std::string body = BatchBody(0, n);
  auto t0 = Clock::now();
  int code = 0;
  std::string id = SubmitAndWait(http, body, &code);
  auto t1 = Clock::now();
  Counts c = GetCounts(http, id);
  std::printf("| W1: one %lld-memory batch, POST to completed | %.0f ms (HTTP %d, %s, %lld/%lld) "
              "| peak RSS %ld MB |\n",
              static_cast<long long>(n), Ms(t0, t1), code, c.status.c_str(),
              static_cast<long long>(c.succeeded), static_cast<long long>(c.total),
              PeakRssKb(server.pid()) / 1024);
}

void W2() {
  ServerProcess server(CloudOptions());
  if (!server.Start()) return (void)std::printf("W2: server did not start\n");
  Http http{server.port()};
  constexpr int kBatches = 1000, kInFlight = 50;
  std::vector<std::string> bodies;
  for (int i = 0; i < kBatches; ++i) bodies.push_back(BatchBody(i * 10, 10));
  const double syncs_before = WalSyncs();
  ResetStatementStats();
  auto t0 = Clock::now();
  const int ok = papr::bench::SubmitAllAndWait(bodies, kInFlight, [&](size_t) { return http; });
  double ms = Ms(t0, Clock::now());
  std::printf("| W2: 1,000 batches of 10, 50 in flight | %.0f batches/s (%d/%d completed in %.0f ms) |\n",
              kBatches * 1000.0 / ms, ok, kBatches, ms);
  // Where the time goes: engine commits per batch and their mean time; on PostgreSQL, WAL
  // fsyncs per batch (pg_stat_wal, the whole cluster's, so the server's other writes too).
  double commits = MetricValue(http, "papr_engine_commit_seconds_count");
  double commit_s = MetricValue(http, "papr_engine_commit_seconds_sum");
  double syncs = WalSyncs();
  std::printf("W2 detail: %.1f engine commits per batch, %.2f ms each on average", commits / kBatches,
              commits > 0 ? commit_s * 1000 / commits : 0.0);
  if (syncs >= 0) std::printf("; %.2f WAL fsyncs per batch", (syncs - syncs_before) / kBatches);
  std::printf("\n");
  PrintStatementStats(kBatches);
}

void W3() {
  ServerProcess server(CloudOptions());
  if (!server.Start()) return (void)std::printf("W3: server did not start\n");
  Http http{server.port()};
  std::vector<double> lat;
  for (int i = 0; i < 200; ++i) {
    std::string body = BatchBody(i, 1);
    auto t0 = Clock::now();
    int code = 0;
    SubmitAndWait(http, body, &code);
    if (code == 200) lat.push_back(Ms(t0, Clock::now()));
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat.empty() ? -1 : lat[static_cast<size_t>(p * (lat.size() - 1))]; };
  std::printf("| W3: 200 sequential 1-memory batches | p50 %.2f ms, p99 %.2f ms (%zu ok) |\n",
              pct(0.5), pct(0.99), lat.size());
}

void W4(int64_t n) {
  ServerProcess server(CloudOptions());
  if (!server.Start()) return (void)std::printf("W4: server did not start\n");
  Http http{server.port()};
  auto t0 = Clock::now();
  auto r = http.Call("POST", "/v1/memory/batch", BatchBody(0, n));
  std::string id = r.ok() ? Field(r->body, "batch_id") : "";
  int64_t at_kill = 0;
  while ((at_kill = GetCounts(http, id).succeeded) < n / 2) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  server.Kill9();
  auto killed = Clock::now();
  if (!server.Start()) return (void)std::printf("W4: restart failed\n");
  auto ready = Clock::now();
  Http http2{server.port()};
  Counts c;
  auto deadline = Clock::now() + std::chrono::seconds(120);
  while (!Finished((c = GetCounts(http2, id)).status) && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  auto done = Clock::now();
  auto [succeeded, distinct] = CheckResults(http2, id);
  std::printf("| W4: W1 with kill -9 at ~50%%, restart to completed | %.0f ms, %s, lost %lld, "
              "duplicated %lld |\n",
              Ms(t0, done), c.status.c_str(), static_cast<long long>(n - succeeded),
              static_cast<long long>(succeeded - distinct));
  // Where the time goes: before the kill, the restart until /readyz, then the rest.
  std::printf("W4 detail: kill at %.0f ms (%lld succeeded), restart to ready %.0f ms, ready to "
              "completed %.0f ms (%lld memories)\n",
              Ms(t0, killed), static_cast<long long>(at_kill), Ms(killed, ready), Ms(ready, done),
              static_cast<long long>(n - at_kill));
}

// Submits `count` batches of `per` memories (numbered from `first`) without waiting, then
// waits for all of them to end. False if any did not complete.
bool IngestAll(const Http& http, int64_t first, int count, int64_t per) {
  std::vector<std::string> ids(count);
  std::vector<std::thread> threads;
  std::atomic<int> next{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i; (i = next++) < count;) {
        auto r = http.Call("POST", "/v1/memory/batch", BatchBody(first + i * per, per));
        ids[i] = r.ok() ? Field(r->body, "batch_id") : "";
        if (ids[i].empty()) {
          std::fprintf(stderr, "submit %d refused: %s\n", i,
                       r.ok() ? (std::to_string(r->status) + " " + r->body.substr(0, 300)).c_str()
                              : r.status().message().c_str());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  bool ok = true;
  for (const auto& id : ids) {
    Counts c;
    while (!id.empty() && !Finished((c = GetCounts(http, id)).status)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!id.empty() && c.status != "completed") {
      std::fprintf(stderr, "batch %s ended %s (%lld/%lld)\n", id.c_str(), c.status.c_str(),
                   static_cast<long long>(c.succeeded), static_cast<long long>(c.total));
    }
    ok = ok && !id.empty() && c.status == "completed";
  }
  return ok;
}

std::string SearchBody(const std::string& query) {
  papr::JsonWriter w;
  w.BeginObject().Field("query", query).EndObject();
  return w.Take();
}

int64_t SearchHits(const Http& http, const std::string& query) {
  auto r = http.Call("POST", "/v1/memory/search?max_memories=10", SearchBody(query));
  if (!r.ok() || r->status != 200) return -1;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(r->body).get(doc) != simdjson::SUCCESS) return -1;
  simdjson::dom::array hits;
  if (doc["data"]["memories"].get(hits) != simdjson::SUCCESS) return -1;
  return static_cast<int64_t>(hits.size());
}

// CPU seconds the process has used (utime + stime).
double CpuSeconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> fields;
  std::string field;
  for (char c : stat.substr(close + 2)) {
    if (c == ' ') {
      fields.push_back(field);
      field.clear();
    } else {
      field += c;
    }
  }
  if (fields.size() < 13) return 0;
  return (std::stod(fields[11]) + std::stod(fields[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Waits (at most `max_s`) until the server uses under 5% of a core for a second: the
// background merges after a load are done. Returns the seconds waited.
double WaitForIdle(pid_t pid, double max_s) {
  auto t0 = Clock::now();
  double before = CpuSeconds(pid);
  while (Ms(t0, Clock::now()) < max_s * 1000) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    double now = CpuSeconds(pid);
    if (now - before < 0.05) break;
    before = now;
  }
  return Ms(t0, Clock::now()) / 1000;
}

// One run of the 300 queries: p50 and p99 in ms, and how many found nothing.
struct QueryRun {
  double p50 = 0;
  double p99 = 0;
  int64_t empty = 0;
};

QueryRun RunQueries(const Http& http, const std::vector<std::string>& queries) {
  QueryRun run;
  std::vector<double> lat;
  for (const auto& q : queries) {
    auto s = Clock::now();
    run.empty += SearchHits(http, q) <= 0 ? 1 : 0;
    lat.push_back(Ms(s, Clock::now()));
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat[static_cast<size_t>(p * (lat.size() - 1))]; };
  run.p50 = pct(0.5);
  run.p99 = pct(0.99);
  return run;
}

void Search(int64_t n, int query_rounds) {
  ServerProcess server(CloudOptions());
  if (!server.Start()) return (void)std::printf("SEARCH: server did not start\n");
  Http http{server.port()};
  constexpr int64_t kPer = 10000;
  auto t0 = Clock::now();
  int count = static_cast<int>((n + kPer - 1) / kPer);
  if (!IngestAll(http, 0, count, kPer)) return (void)std::printf("SEARCH: ingest failed\n");
  // Searchable: the last memory's unique token is found.
  while (SearchHits(http, "entry" + std::to_string(count * kPer - 1)) != 1) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  double load_ms = Ms(t0, Clock::now());
  double idle_s = WaitForIdle(server.pid(), 300);
  auto queries = SearchQueries();
  for (int i = 0; i < 20; ++i) SearchHits(http, queries[i]);  // warm up
  // Extra rounds (--query-rounds) keep the server busy with queries, e.g. for a profiler.
  for (int r = 1; r < query_rounds; ++r) {
    QueryRun extra = RunQueries(http, queries);
    std::printf("| SEARCH query round %d | p50 %.2f ms, p99 %.2f ms |\n", r, extra.p50, extra.p99);
  }
  QueryRun run = RunQueries(http, queries);
  std::printf("| SEARCH: %lld memories, 300 queries of 1-3 words, top 10 | p50 %.2f ms, p99 %.2f ms "
              "(%lld empty; loaded and indexed in %.1f s, then %.0f s until merges were done) | "
              "peak RSS %ld MB |\n",
              static_cast<long long>(count * kPer), run.p50, run.p99,
              static_cast<long long>(run.empty), load_ms / 1000, idle_s, PeakRssKb(server.pid()) / 1024);
}

// Cloud options with admission's per-user and global queue limits lifted: GROWTH and BURST
// submit 30 or 100 batches of 10,000 as one user, past the per-user default of 200,000 queued.
ServerOptions UnlimitedQueueOptions() {
  ServerOptions options = CloudOptions();
  options.extra_yaml =
      "limits:\n  max_open_batches_per_user: 0\n  max_open_batches: 0\n"
      "  max_queued_memories_per_user: 0\n  max_queued_memories: 0\n";
  return options;
}

void Growth(int rounds, int batches) {
  ServerProcess server(UnlimitedQueueOptions());
  if (!server.Start()) return (void)std::printf("GROWTH: server did not start\n");
  Http http{server.port()};
  constexpr int64_t kPer = 10000;
  std::vector<double> rates;
  for (int r = 0; r < rounds; ++r) {
    auto t0 = Clock::now();
    bool ok = IngestAll(http, int64_t{r} * batches * kPer, batches, kPer);
    double ms = Ms(t0, Clock::now());
    rates.push_back(batches * kPer * 1000.0 / ms);
    std::printf("| GROWTH round %d: %d x 10,000 at once | %.0f memories/s%s |\n", r + 1, batches,
                rates.back(), ok ? "" : " (NOT all completed)");
    std::fflush(stdout);
  }
  if (!rates.empty()) {
    std::printf("| GROWTH: last/first | %.2f (first %.0f, last %.0f memories/s; peak RSS %ld MB) |\n",
                rates.front() / rates.back(), rates.front(), rates.back(),
                PeakRssKb(server.pid()) / 1024);
  }
}

// `batches` batches of 10,000 submitted at once: they run concurrently (the decoded-input
// cache and the allocator under load), then the RSS the server keeps once the load is over.
void Burst(int batches) {
  ServerProcess server(UnlimitedQueueOptions());
  if (!server.Start()) return (void)std::printf("BURST: server did not start\n");
  Http http{server.port()};
  constexpr int64_t kPer = 10000;
  long idle_kb = StatusKb(server.pid(), "VmRSS:");
  auto t0 = Clock::now();
  bool ok = IngestAll(http, 0, batches, kPer);
  double ms = Ms(t0, Clock::now());
  std::this_thread::sleep_for(std::chrono::seconds(5));
  long after_kb = StatusKb(server.pid(), "VmRSS:");
  // Then until background merges are done, plus 2 s for the server's idle memory release.
  double settle_s = 5 + WaitForIdle(server.pid(), 120);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  std::printf("| BURST: %d x 10,000 at once | %.1f s, %.0f memories/s%s | RSS idle %ld MB, "
              "peak %ld MB, 5 s after %ld MB, once idle (%.0f s after) %ld MB |\n",
              batches, ms / 1000, batches * kPer * 1000.0 / ms, ok ? "" : " (NOT all completed)",
              idle_kb / 1024, PeakRssKb(server.pid()) / 1024, after_kb / 1024, settle_s + 2,
              StatusKb(server.pid(), "VmRSS:") / 1024);
}

struct Workloads {
  std::string only = "W1,W2,W3,W4";
  int64_t n = 10000;
  int64_t search_n = 200000;
  int rounds = 3;
  int batches = 0;  // per GROWTH round (30) or BURST (100) unless given
  int query_rounds = 1;  // SEARCH: runs of the 300 queries (the last one is reported)
};

void Run(const Workloads& w) {
  std::printf("| workload | result |\n|---|---|\n");
  if (w.only.find("W1") != std::string::npos) W1(w.n);
  if (w.only.find("W2") != std::string::npos) W2();
  if (w.only.find("W3") != std::string::npos) W3();
  if (w.only.find("W4") != std::string::npos) W4(w.n);
  if (w.only.find("W5") != std::string::npos) W1(100000);  // the 100,000-memory batch
  if (w.only.find("SEARCH") != std::string::npos) Search(w.search_n, w.query_rounds);
  if (w.only.find("GROWTH") != std::string::npos) Growth(w.rounds, w.batches > 0 ? w.batches : 30);
  if (w.only.find("BURST") != std::string::npos) Burst(w.batches > 0 ? w.batches : 100);
}

// --backend postgres: the same workloads on RocksDB, then on a throwaway PostgreSQL 15 started
// here (tests/storage/pg_harness.h; every server gets a database of its own).
int RunOnPostgresToo(const Workloads& w) {
  std::printf("\nRocksDB (embedded):\n\n");
  Run(w);
  papr::storage::testing::PgServer pg;
  pg.TrackStatements();
  if (papr::Status s = pg.Start(); !s.ok()) {
    std::printf("PostgreSQL did not start: %s\n", s.ToString().c_str());
    return 1;
  }
  ::setenv("PAPR_TEST_POSTGRES_URL", pg.Url("postgres").c_str(), 1);
  std::printf("\nPostgreSQL 15 (same machine, synchronous_commit on):\n\n");
  Run(w);
  ::unsetenv("PAPR_TEST_POSTGRES_URL");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Workloads w;
  int64_t n = 0;
  std::string backend = "rocksdb";
  std::string nodes;  // --nodes 1,2,4: the cluster workloads instead
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--only") w.only = argv[i + 1];
    if (a == "--memories") n = std::stoll(argv[i + 1]);
    if (a == "--rounds") w.rounds = std::stoi(argv[i + 1]);
    if (a == "--batches") w.batches = std::stoi(argv[i + 1]);
    if (a == "--backend") backend = argv[i + 1];
    if (a == "--query-rounds") w.query_rounds = std::max(1, std::stoi(argv[i + 1]));
    if (a == "--nodes") nodes = argv[i + 1];
  }
  if (!nodes.empty()) return papr::bench::RunClusterLoad(nodes);
  if (n > 0) w.n = w.search_n = n;
  if (backend == "postgres") return RunOnPostgresToo(w);
  Run(w);
  return 0;
}
