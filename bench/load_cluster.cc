#include "bench/load_cluster.h"

#include <atomic>
#include <cstdio>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "bench/load_http.h"
#include "tests/storage/pg_harness.h"

namespace papr::bench {
namespace {

using integration::ServerOptions;
using integration::ServerProcess;

constexpr int kShards = 64;

//! A PostgreSQL of its own and `n` nodes over one database of it.
struct Cluster {
  storage::testing::PgServer pg;
  std::vector<std::unique_ptr<ServerProcess>> nodes;

  bool Start(int n) {
    if (!pg.Start().ok()) return false;
    for (int i = 0; i < n; ++i) {
      ServerOptions o;
      o.config_file = integration::ConfigPath("cloud.yaml");
      o.extra_yaml = "cluster:\n  enabled: true\n  shards: " + std::to_string(kShards) + "\n";
      o.postgres_url = pg.Url("postgres");
      if (i > 0) o.postgres_database = nodes[0]->postgres_database();
      nodes.push_back(std::make_unique<ServerProcess>(o));
      if (!nodes.back()->Start()) return false;
    }
    return true;
  }
  Http Node(size_t i) const { return Http{nodes[i]->port()}; }
  // papr_cluster_shards_serving of each node that runs (-1 for one that does not answer).
  std::vector<int64_t> ServingByNode() const {
    std::vector<int64_t> serving;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (!nodes[i]->running()) continue;
      auto r = Node(i).Call("GET", "/metrics");
      size_t at = r.ok() ? r->body.find("\npapr_cluster_shards_serving ") : std::string::npos;
      serving.push_back(at != std::string::npos ? std::stoll(r->body.substr(at + 29)) : -1);
    }
    return serving;
  }
  int64_t Serving() const {
    int64_t sum = 0;
    for (int64_t s : ServingByNode()) sum += std::max<int64_t>(s, 0);
    return sum;
  }
  // Waits (up to `seconds`) until every node serves shards, all are served and no shard has
  // moved for longer than a heartbeat (a joining node takes its shards over a few ticks).
  bool WaitBalanced(int seconds) const {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    std::vector<int64_t> last;
    auto since = Clock::now();
    while (Clock::now() < deadline) {
      std::vector<int64_t> now = ServingByNode();
      int64_t sum = 0;
      bool each = true;
      for (int64_t s : now) {
        sum += s;
        each = each && s > 0;
      }
      if (now != last) since = Clock::now();
      last = now;
      if (sum == kShards && each && Clock::now() - since > std::chrono::milliseconds(2500)) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  // Waits (up to `seconds`) until the running nodes serve every shard; the ms it took, or -1.
  double WaitServed(int seconds) const {
    auto t0 = Clock::now();
    while (Serving() != kShards) {
      if (Clock::now() - t0 > std::chrono::seconds(seconds)) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return Ms(t0, Clock::now());
  }
};

double W1Ms(const Cluster& c) {
  auto t0 = Clock::now();
  int code = 0;
  std::string id = SubmitAndWait(c.Node(0), BatchBody(0, 10000), &code);
  return code == 200 && GetCounts(c.Node(0), id).succeeded == 10000 ? Ms(t0, Clock::now()) : -1;
}

double W2BatchesPerSecond(const Cluster& c) {
  constexpr int kBatches = 1000, kInFlight = 50;
  std::vector<std::string> bodies;
  for (int i = 0; i < kBatches; ++i) bodies.push_back(BatchBody(100000 + i * 10, 10));
  auto t0 = Clock::now();
  const int ok =
      SubmitAllAndWait(bodies, kInFlight, [&](size_t i) { return c.Node(i % c.nodes.size()); });
  return ok == kBatches ? kBatches * 1000.0 / Ms(t0, Clock::now()) : -1;
}

struct Takeover {
  double shards_ms = -1;  // kill -9 to every shard served by the others
  double batch_ms = -1;   // a 10,000-memory batch submitted to the killed node: POST to done
};

// Kills the last node while its 10,000-memory batch runs.
Takeover TakeOver(Cluster& c) {
  Takeover t;
  ServerProcess& victim = *c.nodes.back();
  Http http{victim.port()};
  auto t0 = Clock::now();
  auto r = http.Call("POST", "/v1/memory/batch", BatchBody(200000, 10000));
  std::string id = r.ok() ? Field(r->body, "batch_id") : "";
  if (id.empty()) return t;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  victim.Kill9();
  auto killed = Clock::now();
  double served = c.WaitServed(60);
  if (served >= 0) t.shards_ms = Ms(killed, Clock::now());
  auto deadline = Clock::now() + std::chrono::seconds(180);
  while (!Finished(GetCounts(c.Node(0), id).status) && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (GetCounts(c.Node(0), id).succeeded == 10000) t.batch_ms = Ms(t0, Clock::now());
  return t;
}

}  // namespace

int RunClusterLoad(const std::string& nodes) {
  std::printf(
      "| nodes | W1: 10,000 memories | W2: 1,000 x 10, 50 in flight | kill -9: shards "
      "served again | its 10,000-memory batch, POST to completed |\n|---|---|---|---|---|\n");
  std::stringstream list(nodes);
  for (std::string item; std::getline(list, item, ',');) {
    const int n = std::stoi(item);
    Cluster c;
    if (n < 1 || !c.Start(n) || !c.WaitBalanced(60)) {
      std::printf("| %d | cluster did not start | | | |\n", n);
      continue;
    }
    const double w1 = W1Ms(c);
    const double w2 = W2BatchesPerSecond(c);
    Takeover t = n >= 2 ? TakeOver(c) : Takeover{};
    std::printf("| %d | %.0f ms | %.0f batches/s | %s | %s |\n", n, w1, w2,
                n >= 2 ? (std::to_string(static_cast<int64_t>(t.shards_ms)) + " ms").c_str() : "-",
                n >= 2 ? (std::to_string(static_cast<int64_t>(t.batch_ms)) + " ms").c_str() : "-");
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace papr::bench
