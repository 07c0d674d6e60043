// Lifecycle edges of durable batches against the real papr-server (cloud edition): concurrent
// and replayed submits, requests while the server recovers, termination of chunked batches
// (state names, real counts, null memoryIds, redrive of the memories that never ran) and the
// parent-close policy across a kill -9 right after the parent's close.

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <memory>
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
using namespace std::chrono_literals;

std::string Lifecycle(int i) { return "lifecycle memory " + std::to_string(i) + " word" + std::to_string(i % 97); }

// The cloud edition with batches of up to 30,000 memories (chunked above 10,000).
ServerOptions Cloud(const std::string& extra_yaml = "", EnvVars env = {}) {
  ServerOptions o;
  o.config_file = ConfigPath("cloud.yaml");
  o.extra_yaml = "features:\n  max_batch_size: 30000\n" + extra_yaml;
  o.env = std::move(env);
  o.start_timeout_ms = 30000;
  return o;
}

// A processing endpoint that answers 200 after `delay_ms` (while `slow`), keeping batches open.
struct SlowEndpoint {
  std::atomic<bool> slow{true};
  int delay_ms;
  TestEndpoint endpoint;
  explicit SlowEndpoint(int delay)
      : delay_ms(delay), endpoint([this](const net::HttpRequest&) {
          if (slow) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
          return net::HttpResponse::Json(200, "{\"ok\":true}");
        }) {}
};

std::string Submit(const ApiClient& api, int n, const std::string& key = "",
                   const std::string& query = "") {
  Headers h;
  if (!key.empty()) h.emplace_back("Idempotency-Key", key);
  Reply r = api.Call("POST", "/v1/memory/batch" + query, BatchBody(n, Lifecycle), h, 60000);
  EXPECT_EQ(r.status, 202) << r.Describe();
  return r.status == 202 ? Str(r.Json()["batch_id"]) : "";
}

int64_t Succeeded(const Reply& status) { return Int(status.Json()["request_counts"]["succeeded"]); }

// Polls until the batch has stored at least `n` memories.
void WaitForSucceeded(const ApiClient& api, const std::string& id, int64_t n) {
  Reply r = PollStatus(api, id, [&](const Reply& s) { return Succeeded(s) >= n; }, 60s);
  ASSERT_EQ(r.status, 200) << "batch " << id << " never stored " << n << " memories";
}

// Every results row: index -> (status, memoryId or "" when null).
struct Row {
  std::string status, memory_id;
};
std::vector<Row> Results(const ApiClient& api, const std::string& id) {
  std::vector<Row> rows;
  std::string after = "-1";
  for (int page = 0; page < 100; ++page) {
    Reply r = api.Get("/v1/memory/batch/" + id + "/results?limit=1000&after=" + after);
    EXPECT_EQ(r.status, 200) << r.Describe();
    if (r.status != 200) return rows;
    element doc = r.Json();
    simdjson::dom::array results = doc["results"].get_array().value();
    for (element item : results) {
      Row row;
      row.status = Str(item["status"]);
      if (!IsNull(item["memoryId"])) row.memory_id = Str(item["memoryId"]);
      rows.push_back(std::move(row));
    }
    if (IsNull(doc["next_after"])) break;
    after = std::to_string(Int(doc["next_after"]));
  }
  return rows;
}

std::string WorkflowStatus(const ApiClient& api, const std::string& workflow_id) {
  Reply r = api.Get("/v1/admin/workflows/" + workflow_id + "/history?limit=1");
  return r.status == 200 ? Str(r.Json()["status"]) : "HTTP " + std::to_string(r.status);
}

bool WaitForWorkflowStatus(const ApiClient& api, const std::string& id, const std::string& want,
                           std::chrono::seconds timeout = 30s) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (WorkflowStatus(api, id) == want) return true;
    std::this_thread::sleep_for(20ms);
  }
  ADD_FAILURE() << id << " is " << WorkflowStatus(api, id) << ", not " << want;
  return false;
}

// Eight identical submits with one Idempotency-Key at once: one batch, seven `existing`, no
// 404 from a half-started batch (with and without ?wait=).
TEST(CloudLifecycleTest, ConcurrentIdenticalSubmitsAllGetTheSameBatch) {
  ServerProcess server(Cloud());
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  for (const std::string query : {"", "?wait=20"}) {
    std::vector<Reply> replies(8);
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        while (!go) std::this_thread::yield();
        replies[t] = api.Call("POST", "/v1/memory/batch" + query, BatchBody(200, Lifecycle),
                              {{"Idempotency-Key", "storm" + query}}, 60000);
      });
    }
    go = true;
    for (auto& t : threads) t.join();
    std::set<std::string> ids;
    int existing = 0;
    for (const auto& r : replies) {
      ASSERT_TRUE(r.status == 202 || (!query.empty() && r.status == 200)) << query << r.Describe();
      ids.insert(Str(r.Json()["batch_id"]));
      if (r.status == 202 && r.Json()["details"]["existing"].get_bool().value()) ++existing;
    }
    EXPECT_EQ(ids.size(), 1u) << query;
    if (query.empty()) {
      EXPECT_EQ(existing, 7);
    }
  }
}

// A replayed key answers with the batch's state now, and usage/metrics count it once.
TEST(CloudLifecycleTest, ReplayedKeyShowsCurrentStateAndCountsOnce) {
  ServerProcess server(Cloud());
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  std::string id = Submit(api, 30, "once");
  ASSERT_EQ(WaitForState(api, id, {"completed"}), "completed");
  Reply again = api.Call("POST", "/v1/memory/batch", BatchBody(30, Lifecycle),
                         {{"Idempotency-Key", "once"}}, 60000);
  ASSERT_EQ(again.status, 202) << again.Describe();
  EXPECT_EQ(Str(again.Json()["batch_id"]), id);
  EXPECT_EQ(Str(again.Json()["status"]), "completed");
  EXPECT_EQ(Str(again.Json()["details"]["status"]), "completed");
  Reply usage = api.Get("/v1/usage");
  ASSERT_EQ(usage.status, 200) << usage.Describe();
  EXPECT_EQ(Int(usage.Json()["usage"]["batches_attempted"]), 1) << usage.body;
  std::string metrics = api.Get("/metrics").body;
  EXPECT_NE(metrics.find("papr_batch_size_memories_sum 30\n"), std::string::npos) << metrics;
}

// Termination of a chunked batch: "terminated" with its reason everywhere, its chunks
// terminated with it, real counts, memoryId null for what was not stored, filters with either
// spelling, and a redrive that runs every memory that was not stored.
TEST(CloudLifecycleTest, TerminatedChunkedBatchIsTerminatedEverywhere) {
  SlowEndpoint endpoint(20);
  ServerProcess server(Cloud(endpoint.endpoint.ProcessingYaml()));
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  const int total = 15000;  // two chunks
  std::string id = Submit(api, total);
  ASSERT_FALSE(id.empty());
  WaitForSucceeded(api, id, 40);
  Reply term = api.Post("/v1/admin/workflows/" + id + "/terminate", "{\"reason\":\"bad input\"}");
  ASSERT_EQ(term.status, 200) << term.Describe();
  ASSERT_TRUE(WaitForWorkflowStatus(api, id + "/chunk-0", "terminated"));
  ASSERT_TRUE(WaitForWorkflowStatus(api, id + "/chunk-1", "terminated"));
  Reply st = api.Get("/v1/memory/batch/status/" + id);
  ASSERT_EQ(st.status, 200);
  EXPECT_EQ(Str(st.Json()["status"]), "terminated");
  EXPECT_NE(Str(st.Json()["reason"]).find("bad input"), std::string::npos) << st.body;
  std::vector<Row> rows = Results(api, id);
  ASSERT_EQ(rows.size(), static_cast<size_t>(total));
  int64_t stored = 0;
  for (const auto& row : rows) {
    if (row.status == "succeeded") {
      ++stored;
      EXPECT_FALSE(row.memory_id.empty());
    } else {
      EXPECT_EQ(row.status, "canceled");
      EXPECT_TRUE(row.memory_id.empty()) << "a memory that was not stored has an id";
    }
  }
  EXPECT_GE(stored, 40);
  EXPECT_EQ(Succeeded(st), stored) << st.body;
  EXPECT_EQ(Int(st.Json()["request_counts"]["canceled"]), total - stored) << st.body;
  for (const std::string filter : {"terminated"}) {
    Reply list = api.Get("/v1/memory/batch?status=" + filter);
    ASSERT_EQ(list.status, 200) << list.Describe();
    EXPECT_EQ(list.Json()["batches"].get_array().size(), 1u) << list.body;
  }
  EXPECT_EQ(api.Get("/v1/memory/batch?status=canceled").status, 200);
  Reply bogus = api.Get("/v1/memory/batch?status=bogus");
  ASSERT_TRUE(IsErrorEnvelope(bogus, 400));
  EXPECT_NE(bogus.body.find("terminated"), std::string::npos) << bogus.body;
  endpoint.slow = false;
  Reply retry = api.Post("/v1/admin/workflows/" + id + "/retry", "");
  ASSERT_EQ(retry.status, 202) << retry.Describe();
  EXPECT_EQ(Int(retry.Json()["details"]["memories"]), total - stored) << retry.body;
}

// Terminating one chunk: the batch goes on; its counts include what that chunk stored.
TEST(CloudLifecycleTest, TerminatedChunkReportsWhatItStored) {
  SlowEndpoint endpoint(10);
  ServerProcess server(Cloud(endpoint.endpoint.ProcessingYaml()));
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  const int total = 10500;
  std::string id = Submit(api, total);
  ASSERT_FALSE(id.empty());
  // More than the 500-memory second chunk can store alone: chunk-0 has stored some too.
  WaitForSucceeded(api, id, 540);
  Reply term = api.Post("/v1/admin/workflows/" + id + "/chunk-0/terminate", "{\"reason\":\"x\"}");
  ASSERT_EQ(term.status, 200) << term.Describe();
  endpoint.slow = false;
  ASSERT_EQ(WaitForState(api, id, {"partial"}, 120s), "partial");
  Reply st = api.Get("/v1/memory/batch/status/" + id);
  int64_t stored = 0;
  for (const auto& row : Results(api, id)) stored += row.status == "succeeded";
  EXPECT_EQ(Succeeded(st), stored) << st.body;
  EXPECT_GT(stored, 500);  // the second chunk ran whole
  EXPECT_EQ(Int(st.Json()["request_counts"]["canceled"]), total - stored) << st.body;
}

// Progress of a chunked batch, read while chunks close, never goes backwards.
TEST(CloudLifecycleTest, ChunkedProgressNeverGoesBackwards) {
  ServerProcess server(Cloud());
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  std::string id = Submit(api, 25000);
  ASSERT_FALSE(id.empty());
  int64_t last = 0;
  auto deadline = Clock::now() + 120s;
  while (Clock::now() < deadline) {
    Reply r = api.Get("/v1/memory/batch/status/" + id);
    ASSERT_EQ(r.status, 200);
    int64_t now = Succeeded(r);
    ASSERT_GE(now, last) << "progress went backwards";
    last = now;
    if (IsTerminalState(Str(r.Json()["status"]))) break;
  }
  EXPECT_EQ(last, 25000);
}

// kill -9 right after the root's terminate commit: after the restart its chunks are
// terminated (the request was recorded with the parent's close), not resumed.
TEST(CloudLifecycleCrashTest, KillRightAfterParentCloseStillTerminatesChildren) {
  SlowEndpoint endpoint(20);
  ServerOptions first_options = Cloud(endpoint.endpoint.ProcessingYaml(),
                                      {{"PAPR_CRASH_AT", "after_parent_close_commit:1"}});
  auto first = std::make_unique<ServerProcess>(first_options);
  ASSERT_TRUE(first->Start());
  ApiClient api(first->port(), kTestApiKey);
  std::string id = Submit(api, 15000);
  ASSERT_FALSE(id.empty());
  WaitForSucceeded(api, id, 20);
  Reply term = api.Post("/v1/admin/workflows/" + id + "/terminate", "{\"reason\":\"stop\"}");
  EXPECT_EQ(term.status, 0) << "the server should have crashed at the parent's close: "
                            << term.Describe();
  first->Kill9();  // reaps it (it exited at the crash point)
  auto second = SuccessorOf(*first, Cloud(endpoint.endpoint.ProcessingYaml()));
  ASSERT_TRUE(second->Start());
  ApiClient api2(second->port(), kTestApiKey);
  EXPECT_EQ(WorkflowStatus(api2, id), "terminated");
  ASSERT_TRUE(WaitForWorkflowStatus(api2, id + "/chunk-0", "terminated"));
  ASSERT_TRUE(WaitForWorkflowStatus(api2, id + "/chunk-1", "terminated"));
  int64_t settled = Succeeded(api2.Get("/v1/memory/batch/status/" + id));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(Succeeded(api2.Get("/v1/memory/batch/status/" + id)), settled)
      << "children of a terminated batch still store memories";
  // Terminating again is refused: it is recorded already.
  EXPECT_EQ(api2.Post("/v1/admin/workflows/" + id + "/terminate", "{\"reason\":\"x\"}").status,
            409);
}

// Requests while the server recovers (after kill -9, 12 open batches): writes answer 503 with
// Retry-After (a ?wait= resend used to overflow the stack, a cancel answered 409 unrecorded),
// reads answer; after recovery every batch completes exactly once.
TEST(CloudLifecycleCrashTest, SubmitCancelAndWaitStormsWhileRecovering) {
  SlowEndpoint endpoint(50);
  auto first = std::make_unique<ServerProcess>(Cloud(endpoint.endpoint.ProcessingYaml()));
  ASSERT_TRUE(first->Start());
  ApiClient api(first->port(), kTestApiKey);
  std::vector<std::string> ids;
  for (int b = 0; b < 12; ++b) ids.push_back(Submit(api, 300, "open-" + std::to_string(b)));
  first->Kill9();
  endpoint.slow = false;
  ServerOptions recovering = Cloud(endpoint.endpoint.ProcessingYaml(),
                                   {{"PAPR_TEST_RECOVERY_DELAY_MS", "3000"}});
  recovering.wait_ready = false;  // the storm lands while it recovers
  auto second = SuccessorOf(*first, recovering);
  ASSERT_TRUE(second->Start());
  ApiClient api2(second->port(), kTestApiKey);
  ASSERT_EQ(api2.Get("/readyz").status, 503);
  std::vector<Reply> storm;
  for (int i = 0; i < 4; ++i) {
    storm.push_back(api2.Call("POST", "/v1/memory/batch?wait=5", BatchBody(300, Lifecycle),
                              {{"Idempotency-Key", "open-0"}}, 30000));
    storm.push_back(api2.Post("/v1/memory/batch/" + ids[1] + "/cancel", ""));
    storm.push_back(api2.Call("POST", "/v1/memory/batch", BatchBody(5, Lifecycle), {}, 30000));
  }
  bool still_recovering = api2.Get("/readyz").status == 503;
  for (const auto& r : storm) {
    if (still_recovering || r.status == 503) {
      ASSERT_TRUE(IsErrorEnvelope(r, 503)) << r.Describe();
      EXPECT_EQ(r.Header("retry-after"), "1");
    }
  }
  EXPECT_EQ(api2.Get("/v1/memory/batch/status/" + ids[2]).status, 200);
  auto deadline = Clock::now() + 30s;
  while (api2.Get("/readyz").status != 200 && Clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  Reply cancel = api2.Post("/v1/memory/batch/" + ids[1] + "/cancel", "");
  EXPECT_TRUE(cancel.status == 200 || cancel.status == 202 || cancel.status == 409)
      << cancel.Describe();
  Reply resend = api2.Call("POST", "/v1/memory/batch?wait=30", BatchBody(300, Lifecycle),
                           {{"Idempotency-Key", "open-0"}}, 60000);
  ASSERT_EQ(resend.status, 200) << resend.Describe();
  EXPECT_EQ(Str(resend.Json()["batch_id"]), ids[0]);
  for (size_t b = 0; b < ids.size(); ++b) {
    if (b == 1) continue;  // cancelled, or finished before the cancel
    ASSERT_EQ(WaitForState(api2, ids[b], {"completed"}), "completed") << ids[b];
    std::set<std::string> memory_ids;
    for (const auto& row : Results(api2, ids[b])) memory_ids.insert(row.memory_id);
    EXPECT_EQ(memory_ids.size(), 300u) << ids[b];
  }
  EXPECT_TRUE(second->running());
}

}  // namespace
}  // namespace papr::integration
