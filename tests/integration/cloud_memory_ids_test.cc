// A batch's memory ids are derived from its id, and an Idempotency-Key fixes that id: once
// retention has deleted a finished batch, the same key starts a new execution whose memories
// are already stored. Its first attempts do not look for them (a fresh attempt's commit is
// the only writer of its id), so their commit's Insert refuses the taken ids; the engine
// rebuilds, the resumed attempts find the stored memories, and each is stored once.

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/integration/api_client.h"
#include "tests/integration/batch_polling.h"
#include "tests/integration/server_process.h"

namespace papr::integration {
namespace {

using namespace std::chrono_literals;

std::string Content(int i) { return "resubmitted note rsb" + std::to_string(i) + "q of the key"; }

TEST(CloudMemoryIdsTest, ResubmittedAfterRetentionStoresEachMemoryOnce) {
#if !PAPR_WITH_ENGINE
  GTEST_SKIP() << "durable workflows need a build with PAPR_WITH_ENGINE";
#endif
  constexpr int kMemories = 20;
  ServerOptions o;
  o.config_file = ConfigPath("cloud.yaml");
  o.extra_yaml = "engine:\n  retention_hours: 0\n  retention_sweep_seconds: 1\n";
  ServerProcess server(o);
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  const Headers key = {{"idempotency-key", "resubmit-after-retention"}};

  std::string first = SubmitBatch(api, BatchBody(kMemories, Content), key);
  ASSERT_FALSE(first.empty());
  Reply end = WaitForEnd(api, first, 60s);
  ASSERT_EQ(Str(end.Json()["status"]), "completed") << end.Describe();
  Reply gone;
  for (auto deadline = std::chrono::steady_clock::now() + 30s;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(100ms)) {
    gone = api.Get("/v1/memory/batch/status/" + first);
    if (gone.status != 200) break;
  }
  ASSERT_EQ(gone.status, 404) << "retention never deleted the batch: " << gone.Describe();

  std::string second = SubmitBatch(api, BatchBody(kMemories, Content), key);
  ASSERT_EQ(second, first);  // the same id, so the same memory ids
  end = WaitForEnd(api, second, 60s);
  ASSERT_EQ(end.status, 200) << end.Describe();
  EXPECT_EQ(Str(end.Json()["status"]), "completed") << end.Describe();
  EXPECT_EQ(Int(end.Json()["total_successful"]), kMemories) << end.Describe();
  // The path this test is about: the taken ids failed a commit, and the engine rebuilt.
  Reply metrics = api.Get("/metrics");
  EXPECT_EQ(metrics.body.find("papr_engine_rebuilt_workflows_total 0\n"), std::string::npos)
      << metrics.body.substr(0, 3000);
  EXPECT_NE(metrics.body.find("papr_engine_rebuilt_workflows_total"), std::string::npos);
  for (int i = 0; i < kMemories; ++i) {
    Reply r = api.Post("/v1/memory/search?max_memories=10",
                       "{\"query\":" + JsonQuote("rsb" + std::to_string(i) + "q") + "}");
    ASSERT_EQ(r.status, 200) << r.Describe();
    size_t hits = 0;
    for (auto hit : r.Json()["data"]["memories"].get_array()) hits += Str(hit["content"]) == Content(i);
    EXPECT_EQ(hits, 1u) << i << ": " << r.body.substr(0, 400);
  }
}

}  // namespace
}  // namespace papr::integration
