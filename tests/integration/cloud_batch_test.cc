// Durable batches of the cloud edition (config/cloud.yaml) against the real papr-server:
// 10,000-memory batches, kill -9 and deterministic crash points (PAPR_CRASH_AT) followed by a
// restart on the same data dir, a flaky / slow / rejecting processing endpoint served from this
// process, cancel, tolerated failures, idempotency and readiness. See /work/shared/API.md.
//
// Exactly-once checks: every memory's content carries a unique token "tok<index>"; after a
// batch ends, the results pages must list every index once with a distinct memoryId, and a
// search for a token must find exactly one memory.

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
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

namespace papr::integration {
namespace {

using Clock = std::chrono::steady_clock;
using simdjson::dom::element;

constexpr auto kBatchDeadline = std::chrono::seconds(60);

// ---------------------------------------------------------------------------------------------
// Deterministic memory contents.

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string Token(int index) { return "tok" + std::to_string(index); }

// 400..600 bytes of English-like text for memory `index`, containing Token(index) once.
std::string Content(int index) {
  static const char* kWords[] = {
      "river",   "garden",  "meeting", "project", "window",   "morning", "report",  "quiet",
      "bright",  "travel",  "market",  "letter",  "history",  "summer",  "careful", "simple",
      "library", "kitchen", "mountain", "evening", "friendly", "station", "budget",  "notes",
      "review",  "coffee",  "planning", "weather", "journey",  "reading", "design",  "team",
      "customer", "feature", "release", "question", "answer",  "village", "harbor",  "forest",
      "painting", "music",   "holiday", "schedule", "contract", "invoice", "lesson",  "teacher",
      "student", "doctor",  "patient", "recipe",  "dinner",   "bicycle", "train",   "airport",
      "ocean",   "island",  "winter",  "autumn",  "spring",   "yellow",  "green",   "silver"};
  constexpr size_t kWordCount = sizeof(kWords) / sizeof(kWords[0]);
  uint64_t state = SplitMix64(static_cast<uint64_t>(index) + 1);
  const size_t target = 400 + state % 180;
  std::string text = "Memory " + std::to_string(index) + " with marker " + Token(index) + ":";
  int words_in_sentence = 0;
  while (text.size() < target) {
    state = SplitMix64(state);
    std::string word = kWords[state % kWordCount];
    if (words_in_sentence == 0) word[0] = static_cast<char>(word[0] - 'a' + 'A');
    text += " " + word;
    if (++words_in_sentence >= 6 + static_cast<int>((state >> 20) % 6)) {
      text += ".";
      words_in_sentence = 0;
    }
  }
  text += ".";
  return text;
}

// {"memories":[...n...], <extra_fields>} with Content(0..n-1).
std::string BatchBody(int n, const std::string& extra_fields = "") {
  return integration::BatchBody(n, Content, extra_fields);
}

// ---------------------------------------------------------------------------------------------
// API helpers.

// POST /v1/memory/batch expecting 202 (generous timeout: 10k-memory bodies are ~6 MB and the
// cloud edition fsyncs before answering). Returns batch_id, "" after a test failure.
std::string SubmitDurableBatch(const ApiClient& api, const std::string& body, Headers headers = {}) {
  Reply r = api.Call("POST", "/v1/memory/batch", body, std::move(headers), 60000);
  EXPECT_EQ(r.status, 202) << r.Describe();
  if (r.status != 202) return "";
  std::string id = Str(r.Json()["batch_id"]);
  EXPECT_TRUE(r.Json()["details"]["durable"].get_bool().value()) << r.body;
  EXPECT_EQ(r.Header("location"), "/v1/memory/batch/status/" + id);
  return id;
}

struct Counts {
  int64_t total = -1, processing = -1, succeeded = -1, failed = -1, canceled = -1;
};

Counts CountsOf(const Reply& status) {
  Counts c;
  element rc = status.Json()["request_counts"].value();
  c.total = Int(rc["total"]);
  c.processing = Int(rc["processing"]);
  c.succeeded = Int(rc["succeeded"]);
  c.failed = Int(rc["failed"]);
  c.canceled = Int(rc["canceled"]);
  return c;
}

Reply GetStatus(const ApiClient& api, const std::string& batch_id) {
  return api.Get("/v1/memory/batch/status/" + batch_id);
}

struct ItemRow {
  int64_t index = -1;
  std::string memory_id;
  std::string status;
};

// Every row of GET /v1/memory/batch/{id}/results, paged with limit=1000.
std::vector<ItemRow> AllResults(const ApiClient& api, const std::string& batch_id) {
  std::vector<ItemRow> rows;
  std::string after;
  for (int page = 0; page < 100; ++page) {
    std::string path = "/v1/memory/batch/" + batch_id + "/results?limit=1000" +
                       (after.empty() ? "" : "&after=" + after);
    Reply r = api.Get(path);
    if (r.status != 200) {
      ADD_FAILURE() << "GET " << path << ": " << r.Describe();
      return rows;
    }
    element doc = r.Json();
    size_t on_page = 0;
    simdjson::dom::array results = doc["results"].get_array().value();
    for (element item : results) {
      rows.push_back({Int(item["index"]),
                      IsNull(item["memoryId"]) ? std::string() : Str(item["memoryId"]),
                      Str(item["status"])});
      ++on_page;
    }
    EXPECT_LE(on_page, 1000u);
    if (IsNull(doc["next_after"])) return rows;
    after = std::to_string(Int(doc["next_after"]));
  }
  ADD_FAILURE() << "results of " << batch_id << " did not end within 100 pages";
  return rows;
}

// Results list indices 0..total-1 in order, each once, every one succeeded, memoryIds unique.
void ExpectAllSucceededOnce(const std::vector<ItemRow>& rows, int total) {
  ASSERT_EQ(rows.size(), static_cast<size_t>(total));
  std::set<std::string> ids;
  int not_succeeded = 0;
  for (int i = 0; i < total; ++i) {
    EXPECT_EQ(rows[i].index, i) << "results out of order at position " << i;
    if (rows[i].status != "succeeded" && ++not_succeeded <= 5) {
      ADD_FAILURE() << "item " << i << " is " << rows[i].status;
    }
    ids.insert(rows[i].memory_id);
  }
  EXPECT_EQ(not_succeeded, 0);
  EXPECT_EQ(ids.size(), static_cast<size_t>(total)) << "memoryIds are not unique";
}

// Searches each sample token; every one must find exactly one memory: the one of its index.
void ExpectTokensFoundOnce(const ApiClient& api, const std::vector<int>& sample,
                           const std::vector<ItemRow>& rows) {
  for (int k : sample) {
    Reply r = api.Post("/v1/memory/search?max_memories=10",
                       "{\"query\":" + JsonQuote(Token(k)) + "}");
    ASSERT_EQ(r.status, 200) << r.Describe();
    simdjson::dom::array hits = r.Json()["data"]["memories"].get_array().value();
    ASSERT_EQ(hits.size(), 1u) << "search for " << Token(k) << ": " << r.body.substr(0, 3000);
    element hit = hits.at(0).value();
    EXPECT_EQ(Str(hit["content"]), Content(k));
    if (static_cast<size_t>(k) < rows.size()) {
      EXPECT_EQ(Str(hit["memoryId"]), rows[k].memory_id) << Token(k);
    }
  }
}

std::vector<int> SampleIndices(int total, int count) {
  std::vector<int> out;
  out.push_back(0);
  out.push_back(total - 1);
  for (int i = 0; static_cast<int>(out.size()) < count; ++i) {
    int k = static_cast<int>(SplitMix64(0xC10D + i) % static_cast<uint64_t>(total));
    if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Server process helpers.

ServerOptions CloudOptions(const std::string& extra_yaml = "", EnvVars env = {}) {
  ServerOptions o;
  o.config_file = ConfigPath("cloud.yaml");
  o.extra_yaml = extra_yaml;
  o.env = std::move(env);
  o.start_timeout_ms = 30000;
  return o;
}

// Waits (without reaping, so ServerProcess still owns the pid) until `server` exits on its own.
bool WaitForSelfExit(const ServerProcess& server, std::chrono::seconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    siginfo_t info{};
    int r = waitid(P_PID, static_cast<id_t>(server.pid()), &info, WEXITED | WNOHANG | WNOWAIT);
    if (r == 0 && info.si_pid == server.pid()) return true;
    if (r < 0 && errno != EINTR) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Reaps a server that exited on its own; returns its exit code (128+signal if killed).
int ReapExited(ServerProcess& server) {
  server.Kill9();             // the process is a zombie: this only reaps it
  return server.Terminate();  // not running: the last exit code
}

void ExpectReady(const ApiClient& api) {
  Reply r = api.Get("/readyz");
  // Recovery may take a moment after a restart: allow up to 30 s.
  auto deadline = Clock::now() + std::chrono::seconds(30);
  while (r.status == 503 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    r = api.Get("/readyz");
  }
  EXPECT_EQ(r.status, 200) << r.Describe();
}

// ---------------------------------------------------------------------------------------------
// A processing endpoint served from this process (TestEndpoint on 127.0.0.1:0).
// `decide(call_number, attempt_of_this_memory)` gives the status code; 2xx answers carry
// {"ok":true}, others {"error":"injected"}. Each answer waits `delay_ms` first.

class FakeEndpoint {
 public:
  using Decide = std::function<int(int64_t call, int attempt)>;

  FakeEndpoint(Decide decide, int delay_ms = 0, int threads = 16)
      : decide_(std::move(decide)),
        delay_ms_(delay_ms),
        endpoint_([this](const net::HttpRequest& req) { return Answer(req); }, threads) {}

  std::string Url() const { return endpoint_.Url(); }
  int64_t calls() const { return calls_.load(); }
  int64_t failures() const { return failures_.load(); }
  int64_t distinct_memories() const {
    std::lock_guard lock(mu_);
    return static_cast<int64_t>(attempts_.size());
  }

 private:
  net::HttpResponse Answer(const net::HttpRequest& req) {
    std::string memory_id;
    simdjson::dom::parser parser;
    std::string_view id_view;
    if (parser.parse(req.body)["memory_id"].get(id_view) == simdjson::SUCCESS) memory_id = id_view;
    int attempt = 0;
    {
      std::lock_guard lock(mu_);
      attempt = attempts_[memory_id]++;
    }
    int64_t call = calls_.fetch_add(1);
    if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
    int code = decide_(call, attempt);
    bool ok = code >= 200 && code < 300;
    if (!ok) failures_++;
    return net::HttpResponse::Json(code, ok ? "{\"ok\":true}" : "{\"error\":\"injected\"}");
  }

  Decide decide_;
  const int delay_ms_;
  std::atomic<int64_t> calls_{0};
  std::atomic<int64_t> failures_{0};
  mutable std::mutex mu_;
  std::map<std::string, int> attempts_;
  TestEndpoint endpoint_;  // last: stopped (its handlers finished) before the members above go
};

std::string ProcessingYaml(const FakeEndpoint& endpoint, int timeout_ms = 2000) {
  return "processing:\n  endpoint: " + endpoint.Url() +
         "\n  timeout_ms: " + std::to_string(timeout_ms) + "\n";
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// ---------------------------------------------------------------------------------------------
// Fixtures.

class CloudBatchIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(CloudOptions());
    ASSERT_TRUE(server_->Start());
  }
  ApiClient Api() const { return ApiClient(server_->port(), kTestApiKey); }

  std::unique_ptr<ServerProcess> server_;
};

class CloudCrashIntegrationTest : public ::testing::Test {};
class CloudProcessingIntegrationTest : public ::testing::Test {};

// ---------------------------------------------------------------------------------------------
// 10. Readiness.

TEST_F(CloudBatchIntegrationTest, ReadyzIs200AfterStart) {
  ApiClient api = Api();
  Reply r = api.Get("/readyz");
  EXPECT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(api.Get("/healthz").status, 200);
}

// 9. Idempotency.

TEST_F(CloudBatchIntegrationTest, IdempotencyKeyWithSameBodyIsSameBatchAndDifferentBody422) {
  ApiClient api = Api();
  const std::string body = BatchBody(5);
  Headers key = {{"Idempotency-Key", "cloud-idem-1"}};
  std::string id = SubmitDurableBatch(api, body, key);
  ASSERT_FALSE(id.empty());

  Reply again = api.Post("/v1/memory/batch", body, key);
  ASSERT_EQ(again.status, 202) << again.Describe();
  EXPECT_EQ(Str(again.Json()["batch_id"]), id);
  EXPECT_TRUE(again.Json()["details"]["existing"].get_bool().value()) << again.body;

  Reply different = api.Post("/v1/memory/batch", BatchBody(6), key);
  EXPECT_TRUE(IsErrorEnvelope(different, 422));

  Reply end = WaitForEnd(api, id, kBatchDeadline);
  ASSERT_EQ(end.status, 200);
  EXPECT_EQ(Str(end.Json()["status"]), "completed") << end.body;
  Counts c = CountsOf(end);
  EXPECT_EQ(c.total, 5);
  EXPECT_EQ(c.succeeded, 5);
  ExpectTokensFoundOnce(api, {0, 1, 2, 3, 4}, AllResults(api, id));
  // The key replayed after the end: Papr's counts say what became of the batch.
  Reply replayed = api.Post("/v1/memory/batch", body, key);
  ASSERT_EQ(replayed.status, 202) << replayed.Describe();
  EXPECT_EQ(Str(replayed.Json()["status"]), "completed") << replayed.body;
  EXPECT_EQ(Int(replayed.Json()["total_processed"]), 5) << replayed.body;
  EXPECT_EQ(Int(replayed.Json()["total_successful"]), 5) << replayed.body;
  EXPECT_EQ(Int(replayed.Json()["total_failed"]), 0) << replayed.body;
}

// 1. A 10,000-memory batch.

TEST_F(CloudBatchIntegrationTest, TenThousandMemoriesComplete) {
  ApiClient api = Api();
  constexpr int kN = 10000;
  for (int i : {0, 1, 17, 9999}) {
    size_t size = Content(i).size();
    ASSERT_GE(size, 400u);
    ASSERT_LE(size, 600u);
  }
  auto t0 = Clock::now();
  std::string id = SubmitDurableBatch(api, BatchBody(kN));
  ASSERT_FALSE(id.empty());
  std::printf("[ timing ] submit 10k: %.2f s\n", Seconds(t0));
  Reply end = WaitForEnd(api, id, kBatchDeadline);
  ASSERT_EQ(end.status, 200);
  std::printf("[ timing ] 10k batch completed after %.2f s\n", Seconds(t0));
  element st = end.Json();
  EXPECT_EQ(Str(st["status"]), "completed") << end.body.substr(0, 2000);
  EXPECT_TRUE(st["durable"].get_bool().value());
  Counts c = CountsOf(end);
  EXPECT_EQ(c.total, kN);
  EXPECT_EQ(c.succeeded, kN);
  EXPECT_EQ(c.failed, 0);
  EXPECT_EQ(c.canceled, 0);
  EXPECT_EQ(c.processing, 0);
  EXPECT_EQ(Int(st["total_successful"]), kN);
  EXPECT_FALSE(IsNull(st["completed_at"]));

  std::vector<ItemRow> rows = AllResults(api, id);
  ExpectAllSucceededOnce(rows, kN);
  if (rows.size() != static_cast<size_t>(kN)) return;
  for (int i : {0, 1, 4242, 9999}) {
    Reply m = api.Get("/v1/memory/" + rows[i].memory_id);
    ASSERT_EQ(m.status, 200) << m.Describe();
    element mem = m.Json()["data"]["memories"].at(0).value();
    EXPECT_EQ(Str(mem["content"]), Content(i));
    EXPECT_EQ(Str(mem["memoryId"]), rows[i].memory_id);
    EXPECT_EQ(Str(mem["batch_id"]), id);
  }
}

// ---------------------------------------------------------------------------------------------
// 2. kill -9 right after the 202.

TEST_F(CloudCrashIntegrationTest, Kill9RightAfterAcceptThenRestartCompletesExactlyOnce) {
  constexpr int kN = 10000;
  ServerProcess server(CloudOptions());
  ASSERT_TRUE(server.Start());
  std::string id = SubmitDurableBatch(ApiClient(server.port(), kTestApiKey), BatchBody(kN));
  server.Kill9();
  ASSERT_FALSE(id.empty());

  auto t0 = Clock::now();
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  ExpectReady(api);
  Reply end = WaitForEnd(api, id, kBatchDeadline);
  ASSERT_EQ(end.status, 200) << server.StderrText().substr(0, 4000);
  std::printf("[ timing ] completed %.2f s after restart\n", Seconds(t0));
  EXPECT_EQ(Str(end.Json()["status"]), "completed") << end.body.substr(0, 2000);
  Counts c = CountsOf(end);
  EXPECT_EQ(c.total, kN);
  EXPECT_EQ(c.succeeded, kN);
  EXPECT_EQ(c.failed, 0);

  std::vector<ItemRow> rows = AllResults(api, id);
  ExpectAllSucceededOnce(rows, kN);
  ExpectTokensFoundOnce(api, SampleIndices(kN, 20), rows);
}

// 3. kill -9 at ~50%.

TEST_F(CloudCrashIntegrationTest, Kill9HalfwayThenRestartCompletesWithExactCounts) {
  constexpr int kN = 10000;
  ServerProcess server(CloudOptions());
  ASSERT_TRUE(server.Start());
  std::string id;
  {
    ApiClient api(server.port(), kTestApiKey);
    id = SubmitDurableBatch(api, BatchBody(kN));
    ASSERT_FALSE(id.empty());
    Reply half = PollStatus(
        api, id, [](const Reply& r) { return CountsOf(r).succeeded >= kN / 2; },
        kBatchDeadline, {.interval_ms = 5});
    ASSERT_EQ(half.status, 200);
    server.Kill9();
    Counts at_kill = CountsOf(half);
    std::printf("[ info ] killed at succeeded=%lld status=%s\n",
                static_cast<long long>(at_kill.succeeded), Str(half.Json()["status"]).c_str());
    // If the batch finished before the poll saw it, the kill proves nothing: make it visible.
    EXPECT_LT(at_kill.succeeded, kN) << "the batch completed before the kill";
  }

  auto t0 = Clock::now();
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  ExpectReady(api);
  Reply end = WaitForEnd(api, id, kBatchDeadline);
  ASSERT_EQ(end.status, 200) << server.StderrText().substr(0, 4000);
  std::printf("[ timing ] completed %.2f s after restart\n", Seconds(t0));
  EXPECT_EQ(Str(end.Json()["status"]), "completed") << end.body.substr(0, 2000);
  Counts c = CountsOf(end);
  EXPECT_EQ(c.total, kN);
  EXPECT_EQ(c.succeeded, kN);
  EXPECT_EQ(c.failed, 0);
  EXPECT_EQ(c.canceled, 0);
  EXPECT_EQ(Int(end.Json()["total_successful"]), kN);

  std::vector<ItemRow> rows = AllResults(api, id);
  ExpectAllSucceededOnce(rows, kN);
  ExpectTokensFoundOnce(api, SampleIndices(kN, 50), rows);
}

// 4. Crash after the batch is durably recorded, before the 202.

TEST_F(CloudCrashIntegrationTest, CrashAfterStartCommitBatchIsListedAndCompletesOnce) {
  constexpr int kN = 200;
  const std::string body = BatchBody(kN);
  Headers key = {{"Idempotency-Key", "cloud-crash-after-start-commit"}};

  ServerProcess crashing(CloudOptions("", {{"PAPR_CRASH_AT", "after_start_commit:1"}}));
  ASSERT_TRUE(crashing.Start());
  Reply r = ApiClient(crashing.port(), kTestApiKey).Post("/v1/memory/batch", body, key);
  EXPECT_EQ(r.status, 0) << "expected no answer, got " << r.Describe();
  ASSERT_TRUE(WaitForSelfExit(crashing, std::chrono::seconds(15)))
      << "the server did not exit at the crash point";
  EXPECT_EQ(ReapExited(crashing), 137);
  EXPECT_NE(crashing.StderrText().find("crash point after_start_commit"), std::string::npos);

  auto server = SuccessorOf(crashing, CloudOptions());
  ASSERT_TRUE(server->Start());
  ApiClient api(server->port(), kTestApiKey);
  ExpectReady(api);

  // The batch was durably recorded: it is listed although the client never saw its id.
  Reply list = api.Get("/v1/memory/batch");
  ASSERT_EQ(list.status, 200) << list.Describe();
  simdjson::dom::array batches = list.Json()["batches"].get_array().value();
  ASSERT_EQ(batches.size(), 1u) << list.body;
  element listed = batches.at(0).value();
  std::string id = Str(listed["batch_id"]);
  EXPECT_EQ(Int(listed["request_counts"]["total"]), kN);

  // Resubmitting with the same key finds the same batch; no second run.
  Reply again = api.Post("/v1/memory/batch", body, key);
  ASSERT_EQ(again.status, 202) << again.Describe();
  EXPECT_EQ(Str(again.Json()["batch_id"]), id);
  EXPECT_TRUE(again.Json()["details"]["existing"].get_bool().value()) << again.body;

  Reply end = WaitForEnd(api, id, kBatchDeadline);
  ASSERT_EQ(end.status, 200);
  EXPECT_EQ(Str(end.Json()["status"]), "completed") << end.body;
  Counts c = CountsOf(end);
  EXPECT_EQ(c.total, kN);
  EXPECT_EQ(c.succeeded, kN);
  EXPECT_EQ(c.failed, 0);

  Reply list_after = api.Get("/v1/memory/batch");
  ASSERT_EQ(list_after.status, 200);
  EXPECT_EQ(list_after.Json()["batches"].get_array().value().size(), 1u) << list_after.body;
  std::vector<ItemRow> rows = AllResults(api, id);
  ExpectAllSucceededOnce(rows, kN);
  ExpectTokensFoundOnce(api, SampleIndices(kN, 20), rows);
}

// 5. Crash in the middle of the engine's transitions.

TEST_F(CloudCrashIntegrationTest, CrashAfterTenthCommitThenRestartCompletes) {
  constexpr int kN = 2000;
  const std::string body = BatchBody(kN);
  Headers key = {{"Idempotency-Key", "cloud-crash-after-commit-40"}};

  ServerProcess crashing(CloudOptions("", {{"PAPR_CRASH_AT", "after_commit:10"}}));
  ASSERT_TRUE(crashing.Start());
  Reply r = ApiClient(crashing.port(), kTestApiKey).Post("/v1/memory/batch", body, key);
  std::string id;
  if (r.status == 202) id = Str(r.Json()["batch_id"]);  // else it died before answering
  std::printf("[ info ] submit answer before the crash: %s\n",
              r.status == 202 ? "202" : r.transport_error.c_str());
  ASSERT_TRUE(WaitForSelfExit(crashing, std::chrono::seconds(30)))
      << "the server did not reach after_commit:10";
  EXPECT_EQ(ReapExited(crashing), 137);

  auto server = SuccessorOf(crashing, CloudOptions());
  ASSERT_TRUE(server->Start());
  ApiClient api(server->port(), kTestApiKey);
  ExpectReady(api);
  if (id.empty()) {
    id = SubmitDurableBatch(api, body, key);  // same key: the recorded batch
    ASSERT_FALSE(id.empty());
  }
  Reply mid = GetStatus(api, id);
  ASSERT_EQ(mid.status, 200) << mid.Describe();

  Reply end = WaitForEnd(api, id, kBatchDeadline);
  ASSERT_EQ(end.status, 200);
  EXPECT_EQ(Str(end.Json()["status"]), "completed") << end.body.substr(0, 2000);
  Counts c = CountsOf(end);
  EXPECT_EQ(c.total, kN);
  EXPECT_EQ(c.succeeded, kN);
  EXPECT_EQ(c.failed, 0);
  std::vector<ItemRow> rows = AllResults(api, id);
  ExpectAllSucceededOnce(rows, kN);
  ExpectTokensFoundOnce(api, SampleIndices(kN, 20), rows);
}

// ---------------------------------------------------------------------------------------------
// 6. A processing endpoint failing ~30% of calls.

TEST_F(CloudProcessingIntegrationTest, FlakyEndpointIsRetriedAndEveryMemorySucceeds) {
  // Calls whose number % 10 < 3 answer 500 - but never a memory's third or later attempt, so
  // that no memory can exhaust the engine's retries by bad luck (the engine's attempt limit is
  // not part of the contract; 30% independent failures over 300 memories would otherwise fail
  // some memory five times in a row about half of the runs).
  FakeEndpoint endpoint([](int64_t call, int attempt) {
    return call % 10 < 3 && attempt < 2 ? 500 : 200;
  });
  ServerProcess server(CloudOptions(ProcessingYaml(endpoint)));
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  constexpr int kN = 300;
  std::string id = SubmitDurableBatch(api, BatchBody(kN));
  ASSERT_FALSE(id.empty());
  Reply end = WaitForEnd(api, id, kBatchDeadline);
  ASSERT_EQ(end.status, 200);
  element st = end.Json();
  EXPECT_EQ(Str(st["status"]), "completed") << end.body.substr(0, 3000);
  Counts c = CountsOf(end);
  EXPECT_EQ(c.total, kN);
  EXPECT_EQ(c.succeeded, kN);
  EXPECT_EQ(c.failed, 0);
  EXPECT_GT(endpoint.failures(), 0);
  int64_t retries = Int(st["retries"]);
  EXPECT_GT(retries, 0) << end.body.substr(0, 2000);
  std::printf("[ info ] endpoint calls=%lld failures=%lld status.retries=%lld\n",
              static_cast<long long>(endpoint.calls()),
              static_cast<long long>(endpoint.failures()), static_cast<long long>(retries));
  EXPECT_EQ(endpoint.distinct_memories(), kN);

  std::vector<ItemRow> rows = AllResults(api, id);
  ExpectAllSucceededOnce(rows, kN);
  if (rows.size() != static_cast<size_t>(kN)) return;
  for (int i : {0, 150, 299}) {
    Reply m = api.Get("/v1/memory/" + rows[i].memory_id);
    ASSERT_EQ(m.status, 200) << m.Describe();
    element mem = m.Json()["data"]["memories"].at(0).value();
    EXPECT_EQ(Str(mem["content"]), Content(i));
    simdjson::dom::object enrichment;
    ASSERT_EQ(mem["enrichment"].get(enrichment), simdjson::SUCCESS) << m.body;
    EXPECT_TRUE(enrichment["ok"].get_bool().value()) << m.body;
  }
}

// 7. Cancel a running batch.

TEST_F(CloudProcessingIntegrationTest, CancelStopsARunningBatch) {
  FakeEndpoint endpoint([](int64_t, int) { return 200; }, /*delay_ms=*/20);
  ServerProcess server(CloudOptions(ProcessingYaml(endpoint)));
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  constexpr int kN = 10000;
  std::string id = SubmitDurableBatch(api, BatchBody(kN, "\"max_concurrency\":2"));
  ASSERT_FALSE(id.empty());
  // Let a few memories through first.
  Reply running = PollStatus(
      api, id, [](const Reply& r) { return CountsOf(r).succeeded >= 5; },
      std::chrono::seconds(30), {.interval_ms = 10});
  ASSERT_EQ(running.status, 200);

  Reply cancel = api.Post("/v1/memory/batch/" + id + "/cancel", "");
  ASSERT_EQ(cancel.status, 200) << cancel.Describe();

  Reply end = WaitForEnd(api, id, kBatchDeadline);
  ASSERT_EQ(end.status, 200);
  EXPECT_EQ(Str(end.Json()["status"]), "cancelled") << end.body.substr(0, 2000);
  Counts c = CountsOf(end);
  EXPECT_EQ(c.total, kN);
  EXPECT_GT(c.canceled, 0);
  EXPECT_GE(c.succeeded, 5);
  EXPECT_EQ(c.succeeded + c.canceled + c.failed, c.total) << end.body.substr(0, 2000);
  EXPECT_EQ(c.processing, 0);
  std::printf("[ info ] cancelled with succeeded=%lld canceled=%lld endpoint calls=%lld\n",
              static_cast<long long>(c.succeeded), static_cast<long long>(c.canceled),
              static_cast<long long>(endpoint.calls()));

  // Nothing runs any more.
  int64_t calls = endpoint.calls();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(endpoint.calls(), calls) << "the endpoint is still called after the batch ended";

  std::vector<ItemRow> rows = AllResults(api, id);
  ASSERT_EQ(rows.size(), static_cast<size_t>(kN));
  int64_t succeeded = 0, canceled = 0, other = 0;
  for (const auto& row : rows) {
    if (row.status == "succeeded") {
      ++succeeded;
    } else if (row.status == "canceled") {
      ++canceled;
    } else {
      ++other;
    }
  }
  EXPECT_GT(canceled, 0);
  EXPECT_EQ(succeeded, c.succeeded);
  EXPECT_EQ(canceled, c.canceled);
  EXPECT_EQ(other, c.failed);

  // Cancelling a finished batch is refused.
  Reply again = api.Post("/v1/memory/batch/" + id + "/cancel", "");
  EXPECT_GE(again.status, 400) << again.Describe();
}

// The answer to a cancel (and every status read after it) shows the cancel: `cancelling` until
// the batch has stopped, then `cancelled` - never `processing` again.
TEST_F(CloudProcessingIntegrationTest, CancelAnswerAndLaterReadsShowCancelling) {
  FakeEndpoint endpoint([](int64_t, int) { return 200; }, /*delay_ms=*/20);
  ServerProcess server(CloudOptions(ProcessingYaml(endpoint)));
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  std::string id = SubmitDurableBatch(api, BatchBody(1000, "\"max_concurrency\":2"));
  ASSERT_FALSE(id.empty());
  Reply cancel = api.Post("/v1/memory/batch/" + id + "/cancel", "");
  ASSERT_EQ(cancel.status, 200) << cancel.Describe();
  std::string state = Str(cancel.Json()["status"]);
  EXPECT_TRUE(state == "cancelling" || state == "cancelled")
      << "the cancel was accepted but its answer says: " << cancel.body;
  Reply status = GetStatus(api, id);
  ASSERT_EQ(status.status, 200);
  state = Str(status.Json()["status"]);
  EXPECT_TRUE(state == "cancelling" || state == "cancelled") << status.body;
  Reply end = WaitForEnd(api, id, kBatchDeadline);
  ASSERT_EQ(end.status, 200);
  EXPECT_EQ(Str(end.Json()["status"]), "cancelled") << end.body;
}

// A cancel answered 200 is not lost by a kill -9 right after the answer: after the restart the
// batch ends `cancelled` instead of running to the end. The window between the answer and the
// commit of the cancel is short, so several rounds are tried.
TEST_F(CloudProcessingIntegrationTest, AcceptedCancelSurvivesKill9) {
  FakeEndpoint endpoint([](int64_t, int) { return 200; }, /*delay_ms=*/20);
  ServerProcess server(CloudOptions(ProcessingYaml(endpoint)));
  ASSERT_TRUE(server.Start());
  for (int round = 0; round < 6; ++round) {
    std::string id;
    {
      ApiClient api(server.port(), kTestApiKey);
      id = SubmitDurableBatch(api, BatchBody(1000, "\"max_concurrency\":2"));
      ASSERT_FALSE(id.empty());
      Reply cancel = api.Post("/v1/memory/batch/" + id + "/cancel", "");
      server.Kill9();
      ASSERT_EQ(cancel.status, 200) << cancel.Describe();
    }
    ASSERT_TRUE(server.Start());
    ApiClient api(server.port(), kTestApiKey);
    Reply end = WaitForEnd(api, id, std::chrono::seconds(5));
    ASSERT_EQ(end.status, 200) << "round " << round << ": the accepted cancel was lost";
    EXPECT_EQ(Str(end.Json()["status"]), "cancelled") << end.body;
  }
}

// 8. tolerated_failure_count 0 with an endpoint rejecting every memory (422: not retried).

TEST_F(CloudProcessingIntegrationTest, ToleratedFailureCountZeroStopsEarlyAsFailed) {
  FakeEndpoint endpoint([](int64_t, int) { return 422; });
  ServerProcess server(CloudOptions(ProcessingYaml(endpoint)));
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  constexpr int kN = 50;
  std::string id =
      SubmitDurableBatch(api, BatchBody(kN, "\"max_concurrency\":1,\"tolerated_failure_count\":0"));
  ASSERT_FALSE(id.empty());
  Reply end = WaitForEnd(api, id, kBatchDeadline);
  ASSERT_EQ(end.status, 200);
  element st = end.Json();
  EXPECT_EQ(Str(st["status"]), "failed") << end.body;
  Counts c = CountsOf(end);
  EXPECT_EQ(c.total, kN);
  EXPECT_EQ(c.succeeded, 0);
  EXPECT_EQ(c.failed, 1) << end.body;
  EXPECT_EQ(c.canceled, kN - c.failed) << end.body;
  EXPECT_EQ(endpoint.calls(), c.failed) << "a 422 must not be retried, nor later memories run";
  simdjson::dom::array errors = st["errors"].get_array().value();
  ASSERT_GE(errors.size(), 1u) << end.body;
  EXPECT_EQ(Int(errors.at(0).value()["index"]), 0);
  EXPECT_EQ(Int(errors.at(0).value()["code"]), 422) << end.body;

  std::vector<ItemRow> rows = AllResults(api, id);
  ASSERT_EQ(rows.size(), static_cast<size_t>(kN));
  EXPECT_EQ(rows[0].status, "failed");
  for (int i = 1; i < kN; ++i) EXPECT_EQ(rows[i].status, "canceled") << "item " << i;
}

}  // namespace
}  // namespace papr::integration
