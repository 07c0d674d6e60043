// Back-pressure on queued work of the cloud edition against the real papr-server: limits on
// open batches per user and in all (limits.max_open_batches*), answered 429 + Retry-After
// with the error envelope naming the limit; replayed Idempotency-Keys still answered; the
// counts released when batches finish and restored after a kill -9.

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/integration/api_client.h"
#include "tests/integration/batch_polling.h"
#include "tests/integration/server_process.h"
#include "tests/integration/test_endpoint.h"

namespace papr::integration {
namespace {

using namespace std::chrono_literals;

constexpr const char* kAliceKey = "admission-alice-key";
constexpr const char* kBobKey = "admission-bob-key";

std::string Content(int i) { return "admission memory " + std::to_string(i); }

// A processing endpoint that holds every call until opened, keeping batches open.
struct GatedEndpoint {
  std::atomic<bool> open{false};
  TestEndpoint endpoint{[this](const net::HttpRequest&) {
    for (int i = 0; i < 3000 && !open; ++i) std::this_thread::sleep_for(10ms);
    return net::HttpResponse::Json(200, "{\"ok\":true}");
  }};
  ~GatedEndpoint() { open = true; }
};

// The cloud edition with two users, at most 2 open batches per user and 3 in all.
ServerOptions Cloud(const GatedEndpoint& gate) {
  ServerOptions o;
  o.config_file = ConfigPath("cloud.yaml");
  o.extra_yaml = std::string("auth:\n  api_keys:\n") + "    - {key: " + kAliceKey +
                 ", user_id: alice}\n    - {key: " + kBobKey + ", user_id: bob}\n" +
                 "limits:\n  max_open_batches_per_user: 2\n  max_open_batches: 3\n" +
                 gate.endpoint.ProcessingYaml(60000);
  o.start_timeout_ms = 30000;
  return o;
}

Reply Submit(const ApiClient& api, const std::string& key, int n = 2) {
  Headers h;
  if (!key.empty()) h.emplace_back("Idempotency-Key", key);
  return api.Call("POST", "/v1/memory/batch", BatchBody(n, Content), h, 60000);
}

std::string BatchId(const Reply& r) { return r.status == 202 ? Str(r.Json()["batch_id"]) : ""; }

::testing::AssertionResult IsRefusal(const Reply& r, const std::string& limit) {
  auto envelope = IsErrorEnvelope(r, 429);
  if (!envelope) return envelope;
  if (r.Header("retry-after").empty()) return ::testing::AssertionFailure() << "no Retry-After";
  if (r.body.find(limit) == std::string::npos) {
    return ::testing::AssertionFailure() << "does not name " << limit << ": " << r.Describe();
  }
  return ::testing::AssertionSuccess();
}

TEST(CloudAdmissionTest, OpenBatchesPastTheLimitsGet429UntilTheyFinish) {
  GatedEndpoint gate;
  ServerProcess server(Cloud(gate));
  ASSERT_TRUE(server.Start());
  ApiClient alice(server.port(), kAliceKey), bob(server.port(), kBobKey);
  Reply a0 = Submit(alice, "a0"), a1 = Submit(alice, "a1");
  ASSERT_EQ(a0.status, 202) << a0.Describe();
  ASSERT_EQ(a1.status, 202) << a1.Describe();

  Reply refused = Submit(alice, "a2");
  EXPECT_TRUE(IsRefusal(refused, "limits.max_open_batches_per_user (2)"));
  EXPECT_NE(refused.body.find("2 batches of this user are open"), std::string::npos)
      << refused.Describe();
  // A replayed key of an open batch is its batch, not a new one.
  Reply replay = Submit(alice, "a0");
  EXPECT_EQ(replay.status, 202) << replay.Describe();
  EXPECT_EQ(BatchId(replay), BatchId(a0));
  // Another user is admitted, up to the global limit.
  Reply b0 = Submit(bob, "b0");
  EXPECT_EQ(b0.status, 202) << b0.Describe();
  EXPECT_TRUE(IsRefusal(Submit(bob, "b1"), "limits.max_open_batches (3)"));

  gate.open = true;
  for (const Reply* r : {&a0, &a1}) {
    EXPECT_EQ(WaitForState(alice, BatchId(*r), {"completed"}), "completed");
  }
  Reply after = Submit(alice, "a2");
  EXPECT_EQ(after.status, 202) << after.Describe();
}

// A batch whose memories settled leaves the counts by itself, not only when a limit would
// refuse (which re-reads every counted batch, stalling submits on a remote store).
TEST(CloudAdmissionTest, SettledBatchesLeaveTheCountsWithoutARefusal) {
  GatedEndpoint gate;
  gate.open = true;
  ServerProcess server(Cloud(gate));
  ASSERT_TRUE(server.Start());
  ApiClient alice(server.port(), kAliceKey);
  Reply a0 = Submit(alice, "a0");
  ASSERT_EQ(a0.status, 202) << a0.Describe();
  EXPECT_EQ(WaitForState(alice, BatchId(a0), {"completed"}), "completed");
  std::string metrics;
  for (int i = 0; i < 500; ++i) {  // the release follows the settling commit
    metrics = alice.Get("/metrics").body;
    if (metrics.find("\npapr_admission_counted_batches 0\n") != std::string::npos) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_NE(metrics.find("\npapr_admission_counted_batches 0\n"), std::string::npos) << metrics;
}

TEST(CloudAdmissionTest, CountsOfOpenBatchesSurviveAKill9) {
  GatedEndpoint gate;
  ServerProcess server(Cloud(gate));
  ASSERT_TRUE(server.Start());
  {
    ApiClient alice(server.port(), kAliceKey);
    ASSERT_EQ(Submit(alice, "a0").status, 202);
    ASSERT_EQ(Submit(alice, "a1").status, 202);
  }
  server.Kill9();
  ASSERT_TRUE(server.Restart());
  ApiClient alice(server.port(), kAliceKey);
  EXPECT_TRUE(IsRefusal(Submit(alice, "a2"), "limits.max_open_batches_per_user (2)"));
  EXPECT_EQ(Submit(alice, "a1").status, 202);  // still its batch
  gate.open = true;
  std::string a0 = BatchId(Submit(alice, "a0"));
  EXPECT_EQ(WaitForState(alice, a0, {"completed"}), "completed");
  EXPECT_EQ(Submit(alice, "a2").status, 202);
}

}  // namespace
}  // namespace papr::integration
