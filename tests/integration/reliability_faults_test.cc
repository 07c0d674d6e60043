// Fault injection against the real papr-server (see /work/shared/API.md and DESIGN.md):
//  - the processing endpoint (processing.endpoint, served from this process on 127.0.0.1)
//    failing half of its calls with 500, hanging past processing.timeout_ms, or answering a
//    200 with a body that is not JSON (retryable "Unavailable": retried up to the 5 attempts of
//    the memory activity, then the memory ends `failed` with its index in the errors);
//  - the webhook receiver down for a while: the cloud edition delivers on a later attempt;
//  - (a full disk: reliability_disk_full_test.cc)
//  - a corrupted data dir (RocksDB CURRENT / MANIFEST garbled, truncated or removed) and a
//    data dir that is a file: the server refuses to start with a clear message and an exit
//    code != 0; it never starts silently empty.
// Durable (cloud) scenarios are skipped in builds without the engine (PAPR_WITH_ENGINE=0).

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/integration/api_client.h"
#include "tests/integration/batch_polling.h"
#include "tests/integration/server_process.h"
#include "tests/integration/test_endpoint.h"
#include "tools/webhook_receiver/receiver.h"

namespace papr::integration {
namespace {

using Clock = std::chrono::steady_clock;
using simdjson::dom::element;

constexpr auto kBatchDeadline = std::chrono::seconds(60);

#define SKIP_WITHOUT_ENGINE()                                                              \
  do {                                                                                     \
    if (!PAPR_WITH_ENGINE) {                                                               \
      GTEST_SKIP() << "needs the cloud edition (this build has PAPR_WITH_ENGINE=0)";       \
    }                                                                                      \
  } while (0)

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string Token(int i) { return "fq" + std::to_string(i) + "z9"; }

std::string Content(int i) {
  static const char* kWords[] = {"river", "garden", "meeting", "project", "window", "morning",
                                 "report", "quiet", "bright", "travel", "market", "letter"};
  uint64_t s = Mix(static_cast<uint64_t>(i) + 77);
  std::string text = "Fault test memory " + Token(i) + ":";
  while (text.size() < 150 + s % 100) {
    s = Mix(s);
    text += " ";
    text += kWords[s % 12];
  }
  return text + ".";
}

std::string BatchBody(int n, const std::string& extra_fields = "") {
  return integration::BatchBody(n, Content, extra_fields);
}

ServerOptions CloudOptions(const std::string& extra_yaml = "") {
  ServerOptions o;
  o.config_file = ConfigPath("cloud.yaml");
  o.extra_yaml = extra_yaml;
  o.start_timeout_ms = 30000;
  return o;
}

// The edition this build runs best: cloud with the engine, else OSS.
ServerOptions DefaultEditionOptions(const std::string& extra_yaml = "") {
  if (PAPR_WITH_ENGINE) return CloudOptions(extra_yaml);
  ServerOptions o;
  o.extra_yaml = extra_yaml;
  return o;
}

struct Row {
  int64_t index;
  std::string memory_id, status, error;
};

std::vector<Row> AllResults(const ApiClient& api, const std::string& id) {
  std::vector<Row> rows;
  std::string after;
  for (int page = 0; page < 100; ++page) {
    Reply r = api.Get("/v1/memory/batch/" + id + "/results?limit=1000" +
                      (after.empty() ? "" : "&after=" + after));
    if (r.status != 200) {
      ADD_FAILURE() << "results of " << id << ": " << r.Describe();
      return rows;
    }
    element doc = r.Json();
    simdjson::dom::array results = doc["results"].get_array().value();
    for (element item : results) {
      Row row{Int(item["index"]), "", Str(item["status"]), ""};
      std::string_view v;
      if (item["memoryId"].get(v) == simdjson::SUCCESS) row.memory_id = v;
      if (item["error"].get(v) == simdjson::SUCCESS) row.error = v;
      rows.push_back(row);
    }
    if (IsNull(doc["next_after"])) return rows;
    after = std::to_string(Int(doc["next_after"]));
  }
  ADD_FAILURE() << "results of " << id << " did not end";
  return rows;
}

// Hits of a search for `token`.
int SearchHits(const ApiClient& api, const std::string& token) {
  Reply r = api.Post("/v1/memory/search?max_memories=10", "{\"query\":" + JsonQuote(token) + "}");
  EXPECT_EQ(r.status, 200) << r.Describe();
  if (r.status != 200) return -1;
  return static_cast<int>(r.Json()["data"]["memories"].get_array().value().size());
}

// Every index succeeded once with distinct memoryIds; sampled tokens found exactly once.
void ExpectAllStoredOnce(const ApiClient& api, const std::string& id, int n) {
  std::vector<Row> rows = AllResults(api, id);
  ASSERT_EQ(rows.size(), static_cast<size_t>(n));
  std::set<std::string> ids;
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(rows[i].index, i);
    EXPECT_EQ(rows[i].status, "succeeded") << "index " << i << ": " << rows[i].error;
    ids.insert(rows[i].memory_id);
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(n)) << "memoryIds are not unique";
  for (int i = 0; i < n; i += std::max(1, n / 25)) {
    EXPECT_EQ(SearchHits(api, Token(i)), 1) << Token(i);
  }
}

// ---------------------------------------------------------------------------------------------
// A processing endpoint served from this process (TestEndpoint on 127.0.0.1:0).
// `decide(index, attempt)` gives the answer for memory `index` (metadata.customMetadata.i of
// the request) on its `attempt`-th call (0-based).

struct Answer {
  int status = 200;
  std::string body = "{\"ok\":true}";
  int delay_ms = 0;
};

class ProcessingEndpoint {
 public:
  using Decide = std::function<Answer(int64_t index, int attempt)>;

  explicit ProcessingEndpoint(Decide decide, int threads = 48)
      : decide_(std::move(decide)),
        endpoint_([this](const net::HttpRequest& req) { return Serve(req); }, threads) {}

  // Delayed answers still being slept on stop sleeping, so the endpoint stops at once.
  ~ProcessingEndpoint() { stopping_ = true; }

  std::string Yaml(int timeout_ms) const { return endpoint_.ProcessingYaml(timeout_ms); }

  struct Call {
    int64_t index;
    int attempt;
    int64_t started_ms;
    int status;
  };
  std::vector<Call> Calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  // Calls per memory index.
  std::map<int64_t, int> Attempts() const {
    std::lock_guard lock(mu_);
    std::map<int64_t, int> out;
    for (const auto& c : calls_) out[c.index]++;
    return out;
  }

 private:
  net::HttpResponse Serve(const net::HttpRequest& req) {
    int64_t index = -1;
    simdjson::dom::parser parser;
    element doc;
    if (parser.parse(req.body).get(doc) == simdjson::SUCCESS) {
      int64_t v;
      if (doc["metadata"]["customMetadata"]["i"].get(v) == simdjson::SUCCESS) index = v;
    }
    int attempt;
    size_t call_slot;
    {
      std::lock_guard lock(mu_);
      attempt = attempts_[index]++;
      call_slot = calls_.size();
      calls_.push_back({index, attempt, NowMs(), 0});
    }
    Answer a = decide_(index, attempt);
    {
      std::lock_guard lock(mu_);
      calls_[call_slot].status = a.status;
    }
    for (int slept = 0; slept < a.delay_ms && !stopping_; slept += 10) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return net::HttpResponse::Json(a.status, std::move(a.body));
  }

  Decide decide_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::map<int64_t, int> attempts_;
  std::vector<Call> calls_;
  // Last: stopped (after stopping_ is set, its handlers finished) before the members above go.
  TestEndpoint endpoint_;
};

class ReliabilityFaultsIntegrationTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure() && server_) {
      std::string err = server_->StderrText();
      if (err.size() > 6000) err = err.substr(err.size() - 6000);
      std::printf("server stderr (tail):\n%s\n", err.c_str());
    }
    server_.reset();
  }
  bool Start(ServerOptions options) {
    server_ = std::make_unique<ServerProcess>(std::move(options));
    auto started = server_->Start();
    if (!started) ADD_FAILURE() << started.message();
    return static_cast<bool>(started);
  }
  ApiClient Api() const { return ApiClient(server_->port(), kTestApiKey); }

  std::unique_ptr<ServerProcess> server_;
};

// ---------------------------------------------------------------------------------------------
// Processing endpoint faults (durable retries: cloud edition).

TEST_F(ReliabilityFaultsIntegrationTest, EndpointFailingHalfTheCallsWith500StillStoresEveryMemory) {
  SKIP_WITHOUT_ENGINE();
  // About half of the calls fail: each of a memory's first 4 attempts fails with 500 on a coin
  // flip (deterministic); the 5th (last allowed) attempt always succeeds.
  ProcessingEndpoint endpoint([](int64_t index, int attempt) {
    Answer a;
    if (attempt < 4 && Mix(static_cast<uint64_t>(index) * 16 + static_cast<uint64_t>(attempt)) % 2 == 0) {
      a.status = 500;
      a.body = "{\"error\":\"injected\"}";
    }
    return a;
  });
  ASSERT_TRUE(Start(CloudOptions(endpoint.Yaml(500))));
  ApiClient api = Api();
  constexpr int kN = 200;
  std::string id = SubmitBatch(api, BatchBody(kN));
  ASSERT_FALSE(id.empty());
  Reply end = WaitForEnd(api, id, kBatchDeadline);
  ASSERT_EQ(end.status, 200);
  element st = end.Json();
  EXPECT_EQ(Str(st["status"]), "completed") << end.body.substr(0, 3000);
  EXPECT_EQ(Int(st["request_counts"]["total"]), kN);
  EXPECT_EQ(Int(st["request_counts"]["succeeded"]), kN);
  EXPECT_EQ(Int(st["request_counts"]["failed"]), 0);
  EXPECT_EQ(Int(st["total_successful"]), kN);
  ExpectAllStoredOnce(api, id, kN);

  auto calls = endpoint.Calls();
  int64_t failed = std::count_if(calls.begin(), calls.end(),
                                 [](const auto& c) { return c.status == 500; });
  auto attempts = endpoint.Attempts();
  EXPECT_EQ(attempts.size(), static_cast<size_t>(kN)) << "memories the endpoint saw";
  std::printf("[ faults ] flaky endpoint: %zu calls, %lld answered 500 (%.0f%%), %d memories "
              "stored\n",
              calls.size(), static_cast<long long>(failed),
              100.0 * static_cast<double>(failed) / static_cast<double>(std::max<size_t>(1, calls.size())), kN);
  EXPECT_GE(failed * 100, static_cast<int64_t>(calls.size()) * 35) << "fewer failures than planned";
  // Every memory was retried until its first success; no memory's success was followed by more
  // calls (that would be a retry of an already stored memory).
  for (const auto& [index, count] : attempts) {
    int expected = 0;
    while (expected < 4 && Mix(static_cast<uint64_t>(index) * 16 + static_cast<uint64_t>(expected)) % 2 == 0) {
      ++expected;
    }
    EXPECT_EQ(count, expected + 1) << "calls for memory " << index;
  }
}

TEST_F(ReliabilityFaultsIntegrationTest, EndpointHangingPastTheTimeoutIsRetriedAndBatchCompletes) {
  SKIP_WITHOUT_ENGINE();
  // timeout_ms 500. Every 4th memory: the first call hangs 2 s; every 8th: the first two.
  ProcessingEndpoint endpoint([](int64_t index, int attempt) {
    Answer a;
    if ((index % 4 == 0 && attempt == 0) || (index % 8 == 0 && attempt == 1)) a.delay_ms = 2000;
    return a;
  });
  ASSERT_TRUE(Start(CloudOptions(endpoint.Yaml(500))));
  ApiClient api = Api();
  constexpr int kN = 40;
  auto t0 = Clock::now();
  std::string id = SubmitBatch(api, BatchBody(kN));
  ASSERT_FALSE(id.empty());
  Reply end = WaitForEnd(api, id, kBatchDeadline);
  ASSERT_EQ(end.status, 200);
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  element st = end.Json();
  EXPECT_EQ(Str(st["status"]), "completed") << end.body.substr(0, 3000);
  EXPECT_EQ(Int(st["request_counts"]["succeeded"]), kN);
  EXPECT_EQ(Int(st["request_counts"]["failed"]), 0);
  ExpectAllStoredOnce(api, id, kN);

  auto calls = endpoint.Calls();
  std::map<int64_t, std::vector<int64_t>> starts;  // index -> call start times
  for (const auto& c : calls) starts[c.index].push_back(c.started_ms);
  for (int64_t i = 0; i < kN; ++i) {
    const auto& s = starts[i];
    int hangs = (i % 8 == 0) ? 2 : (i % 4 == 0) ? 1 : 0;
    ASSERT_GE(s.size(), static_cast<size_t>(hangs + 1)) << "memory " << i << " was not retried";
    for (int h = 0; h < hangs; ++h) {
      // The attempt was abandoned at the 500 ms timeout: the retry started long before the
      // hanging answer (2 s) would have come.
      EXPECT_LT(s[h + 1] - s[h], 1900) << "memory " << i << " attempt " << h + 1
                                       << " started only after the hanging call ended";
    }
  }
  std::printf("[ faults ] hanging endpoint: %zu calls for %d memories (15 hung 2 s with a "
              "500 ms timeout); batch done in %.2f s\n",
              calls.size(), kN, secs);
}

TEST_F(ReliabilityFaultsIntegrationTest, EndpointAnsweringGarbageIsRetriedThenFailsNamingTheIndex) {
  SKIP_WITHOUT_ENGINE();
  const std::set<int64_t> garbage = {3, 7, 15};
  ProcessingEndpoint endpoint([&garbage](int64_t index, int) {
    Answer a;
    if (garbage.count(index)) a.body = "<html>this is definitely not JSON";
    return a;
  });
  ASSERT_TRUE(Start(CloudOptions(endpoint.Yaml(500))));
  ApiClient api = Api();
  constexpr int kN = 20;
  Reply r = api.Call("POST", "/v1/memory/batch?wait=60", BatchBody(kN), {}, 90000);
  // Some failed, some succeeded: 207 with the final BatchMemoryResponse.
  ASSERT_EQ(r.status, 207) << r.Describe();
  element resp = r.Json();
  const std::string id = Str(resp["batch_id"]);
  EXPECT_EQ(Str(resp["status"]), "partial");
  EXPECT_EQ(Int(resp["total_processed"]), kN);
  EXPECT_EQ(Int(resp["total_successful"]), kN - 3);
  EXPECT_EQ(Int(resp["total_failed"]), 3);
  std::set<int64_t> wait_error_indices;
  simdjson::dom::array wait_errors = resp["errors"].get_array().value();
  for (element e : wait_errors) {
    wait_error_indices.insert(Int(e["index"]));
    EXPECT_FALSE(Str(e["error"]).empty());
  }
  EXPECT_EQ(wait_error_indices, garbage) << r.body.substr(0, 3000);

  Reply status = api.Get("/v1/memory/batch/status/" + id);
  ASSERT_EQ(status.status, 200) << status.Describe();
  element st = status.Json();
  EXPECT_EQ(Str(st["status"]), "partial");
  EXPECT_EQ(Int(st["request_counts"]["total"]), kN);
  EXPECT_EQ(Int(st["request_counts"]["succeeded"]), kN - 3);
  EXPECT_EQ(Int(st["request_counts"]["failed"]), 3);
  std::set<int64_t> status_error_indices;
  simdjson::dom::array status_errors = st["errors"].get_array().value();
  for (element e : status_errors) {
    status_error_indices.insert(Int(e["index"]));
    EXPECT_TRUE(ContainsIgnoreCase(Str(e["error"]), "json")) << Raw(e);
  }
  EXPECT_EQ(status_error_indices, garbage) << status.body.substr(0, 3000);

  std::vector<Row> rows = AllResults(api, id);
  ASSERT_EQ(rows.size(), static_cast<size_t>(kN));
  for (int i = 0; i < kN; ++i) {
    if (garbage.count(i)) {
      EXPECT_EQ(rows[i].status, "failed") << i;
      EXPECT_FALSE(rows[i].error.empty()) << i;
      EXPECT_EQ(SearchHits(api, Token(i)), 0) << "a failed memory was stored: " << Token(i);
    } else {
      EXPECT_EQ(rows[i].status, "succeeded") << i << ": " << rows[i].error;
      EXPECT_EQ(SearchHits(api, Token(i)), 1) << Token(i);
    }
  }
  // Retryable (Unavailable): every garbage memory had exactly the 5 attempts of the policy.
  auto attempts = endpoint.Attempts();
  for (int64_t i : garbage) EXPECT_EQ(attempts[i], 5) << "attempts for memory " << i;
  std::printf("[ faults ] garbage endpoint: attempts for memories 3/7/15: %d/%d/%d\n",
              attempts[3], attempts[7], attempts[15]);
}

// ---------------------------------------------------------------------------------------------
// Webhook receiver down for a while.

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST_F(ReliabilityFaultsIntegrationTest, WebhookReceiverDownForAWhileIsDeliveredOnARetry) {
  SKIP_WITHOUT_ENGINE();
  const int port = FreeLoopbackPort();
  const std::string secret = "whsec_ZmF1bHRzLXRlc3Qtc2VjcmV0LWtleS0wMQ==";
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/late";
  ASSERT_TRUE(Start(CloudOptions(
      "webhooks:\n  allow_private_targets: true\n  retry_schedule_seconds: [0, 2, 2, 2, 2, 2]\n")));
  ApiClient api = Api();
  std::string id = SubmitBatch(
      api, BatchBody(5, "\"webhook_url\":" + JsonQuote(url) + ",\"webhook_secret\":" + JsonQuote(secret)));
  ASSERT_FALSE(id.empty());
  Reply end = WaitForEnd(api, id, kBatchDeadline);
  ASSERT_EQ(end.status, 200);
  EXPECT_EQ(Str(end.Json()["status"]), "completed");
  auto completed_at = Clock::now();

  // While nobody listens: the first attempt failed, the delivery is still pending.
  Reply pending = PollStatus(
      api, id, [](const Reply& r) { return Int(r.Json()["webhook"]["attempts"]) >= 1; },
      std::chrono::seconds(10));
  EXPECT_EQ(Str(pending.Json()["webhook"]["status"]), "pending") << pending.body;

  std::this_thread::sleep_until(completed_at + std::chrono::seconds(3));
  tools::ReceiverOptions ro;
  ro.listen = "127.0.0.1:" + std::to_string(port);
  ro.secret = secret;
  tools::WebhookReceiver receiver(ro);
  auto started = receiver.Start();
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  ASSERT_TRUE(receiver.WaitForDeliveries(1, std::chrono::seconds(20)))
      << "the webhook was not delivered after the receiver came up";
  Reply done = PollStatus(
      api, id, [](const Reply& r) { return Str(r.Json()["webhook"]["status"]) != "pending"; },
      std::chrono::seconds(20));
  element wh = done.Json()["webhook"];
  EXPECT_EQ(Str(wh["status"]), "delivered") << Raw(wh);
  EXPECT_GE(Int(wh["attempts"]), 2) << Raw(wh);
  EXPECT_EQ(Int(wh["last_status_code"]), 200) << Raw(wh);
  auto deliveries = receiver.Deliveries();
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_TRUE(deliveries[0].verified);
  simdjson::dom::parser parser;
  element body = parser.parse(deliveries[0].body);
  EXPECT_EQ(Str(body["data"]["batch_id"]), id);
  EXPECT_EQ(Str(body["type"]), "batch.completed");
  std::printf("[ faults ] webhook receiver down for 3 s: delivered on attempt %lld\n",
              static_cast<long long>(Int(wh["attempts"])));
  receiver.Stop();
}

// ---------------------------------------------------------------------------------------------
// Corrupted data dir: refuse to start, clearly; never start empty.

std::string FindFile(const std::string& dir, const std::string& prefix) {
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0) return e.path().string();
  }
  return "";
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::string Garbage(size_t n) {
  std::mt19937_64 rng(42);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

// Starts a server, stores memories (and a batch in the cloud edition), stops it cleanly, then
// applies `corrupt` to its RocksDB directory and starts it again: it must refuse to start with
// a clear message; if it starts, the memories must be there (never silently empty).
void ExpectRefusesCorruptedDb(const std::function<void(const std::string& db_dir)>& corrupt,
                              const char* what) {
  ServerProcess server(DefaultEditionOptions());
  ASSERT_TRUE(server.Start());
  std::vector<std::string> ids;
  {
    ApiClient api(server.port(), kTestApiKey);
    for (int i = 0; i < 20; ++i) {
      Reply r = api.Post("/v1/memory", "{\"content\":" + JsonQuote(Content(i)) + "}");
      ASSERT_EQ(r.status, 200) << r.Describe();
      ids.push_back(Str(r.Json()["data"].at(0)["memoryId"]));
    }
  }
  ASSERT_EQ(server.Terminate(), 0);
  const std::string db_dir = server.data_dir() + "/db";
  ASSERT_TRUE(std::filesystem::exists(db_dir + "/CURRENT")) << "no RocksDB CURRENT in " << db_dir;
  corrupt(db_dir);

  const size_t stderr_before = server.StderrText().size();
  auto started = server.Start();
  std::string err = server.StderrText().substr(stderr_before);
  if (started) {
    ApiClient api(server.port(), kTestApiKey);
    int present = 0;
    for (const auto& id : ids) present += api.Get("/v1/memory/" + id).status == 200;
    ADD_FAILURE() << what << ": the server started on a corrupted data dir; " << present << " of "
                  << ids.size() << " memories present"
                  << (present == 0 ? " (it silently started EMPTY)" : "") << "\nstderr:\n"
                  << err;
    return;
  }
  int code = server.Terminate();  // not running: the exit code of the failed start
  EXPECT_NE(code, 0) << what;
  EXPECT_TRUE(code > 0 && code < 128) << what << ": exit code " << code
                                      << " (killed by a signal, or hung?)\nstderr:\n" << err;
  EXPECT_TRUE(ContainsIgnoreCase(err, "corrupt") || ContainsIgnoreCase(err, "CURRENT") ||
              ContainsIgnoreCase(err, "MANIFEST") || ContainsIgnoreCase(err, "cannot open"))
      << what << ": stderr does not say what is wrong:\n" << err;
  EXPECT_NE(err.find(server.data_dir()), std::string::npos)
      << what << ": stderr does not name the data dir " << server.data_dir() << ":\n" << err;
  std::printf("[ faults ] %s: exit %d, stderr: %s", what, code,
              err.substr(0, std::min<size_t>(err.size(), 400)).c_str());
  if (err.empty() || err.back() != '\n') std::printf("\n");
}

TEST_F(ReliabilityFaultsIntegrationTest, CurrentFileTruncatedRefusesToStart) {
  ExpectRefusesCorruptedDb([](const std::string& db) { WriteBytes(db + "/CURRENT", ""); },
                           "CURRENT truncated to 0 bytes");
}

TEST_F(ReliabilityFaultsIntegrationTest, CurrentFileGarbageRefusesToStart) {
  ExpectRefusesCorruptedDb([](const std::string& db) { WriteBytes(db + "/CURRENT", Garbage(16)); },
                           "CURRENT garbage");
}

TEST_F(ReliabilityFaultsIntegrationTest, CurrentNamingAMissingManifestRefusesToStart) {
  ExpectRefusesCorruptedDb(
      [](const std::string& db) { WriteBytes(db + "/CURRENT", "MANIFEST-999999\n"); },
      "CURRENT naming a missing MANIFEST");
}

TEST_F(ReliabilityFaultsIntegrationTest, ManifestGarbageRefusesToStart) {
  ExpectRefusesCorruptedDb(
      [](const std::string& db) {
        std::string current = ReadTextFile(db + "/CURRENT");
        while (!current.empty() && (current.back() == '\n' || current.back() == '\r')) current.pop_back();
        std::string manifest = db + "/" + current;
        ASSERT_TRUE(std::filesystem::exists(manifest)) << manifest;
        WriteBytes(manifest, Garbage(std::max<size_t>(64, std::filesystem::file_size(manifest))));
      },
      "MANIFEST overwritten with garbage");
}

TEST_F(ReliabilityFaultsIntegrationTest, ManifestTruncatedRefusesToStart) {
  ExpectRefusesCorruptedDb(
      [](const std::string& db) {
        std::string manifest = FindFile(db, "MANIFEST-");
        ASSERT_FALSE(manifest.empty());
        std::string current = ReadTextFile(db + "/CURRENT");
        while (!current.empty() && (current.back() == '\n' || current.back() == '\r')) current.pop_back();
        std::filesystem::resize_file(db + "/" + current, 0);
      },
      "MANIFEST truncated to 0 bytes");
}

TEST_F(ReliabilityFaultsIntegrationTest, CurrentFileRemovedRefusesToStartInsteadOfStartingEmpty) {
  ExpectRefusesCorruptedDb([](const std::string& db) { std::filesystem::remove(db + "/CURRENT"); },
                           "CURRENT removed");
}

// ---------------------------------------------------------------------------------------------
// A data dir that is not a directory.

void ExpectStartFailsClearly(ServerProcess& server, const std::string& path, const char* what) {
  auto started = server.Start();
  ASSERT_FALSE(started) << what << ": the server started";
  int code = server.Terminate();
  std::string err = server.StderrText();
  EXPECT_TRUE(code > 0 && code < 128) << what << ": exit code " << code << "\n" << err;
  EXPECT_NE(err.find(path), std::string::npos) << what << ": stderr does not name " << path << ":\n"
                                               << err;
  EXPECT_TRUE(ContainsIgnoreCase(err, "directory") || ContainsIgnoreCase(err, "data dir"))
      << what << ": stderr does not say what is wrong:\n" << err;
  std::printf("[ faults ] %s: exit %d, stderr: %s", what, code, err.substr(0, 300).c_str());
  if (err.empty() || err.back() != '\n') std::printf("\n");
}

TEST_F(ReliabilityFaultsIntegrationTest, DataDirThatIsAFileIsAClearError) {
  ServerProcess server(DefaultEditionOptions());
  ASSERT_TRUE(WriteTextFile(server.data_dir(), "not a directory\n"));
  ExpectStartFailsClearly(server, server.data_dir(), "data dir is a file");
  EXPECT_EQ(ReadTextFile(server.data_dir()), "not a directory\n") << "the file was modified";
}

TEST_F(ReliabilityFaultsIntegrationTest, DatabaseDirThatIsAFileIsAClearError) {
  ServerProcess server(DefaultEditionOptions());
  std::filesystem::create_directories(server.data_dir());
  ASSERT_TRUE(WriteTextFile(server.data_dir() + "/db", "not a directory\n"));
  ExpectStartFailsClearly(server, server.data_dir(), "data dir's db is a file");
}

}  // namespace
}  // namespace papr::integration
