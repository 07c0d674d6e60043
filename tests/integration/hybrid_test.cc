// The OSS hybrid: an open-source config that turns the engine on routes batches above
// `features.temporal_threshold` to durable workflows and smaller ones to the executor, with
// `max_batch_size_with_temporal` as its limit.
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/api_client.h"
#include "tests/integration/server_process.h"

namespace papr::integration {
namespace {

std::string Batch(int n) {
  std::string body = "{\"memories\":[";
  for (int i = 0; i < n; ++i) {
    body += std::string(i ? "," : "") + "{\"content\":\"hybrid memory " + std::to_string(i) + "\"}";
  }
  return body + "]}";
}

bool Durable(const Reply& r) {
  bool durable = false;
  return r.Json()["details"]["durable"].get(durable) == simdjson::SUCCESS && durable;
}

TEST(HybridIntegrationTest, SmallBatchesRunInMemoryLargerOnesDurablyUnderTheHybridLimit) {
  if (PAPR_WITH_ENGINE == 0) GTEST_SKIP() << "the hybrid needs a build with the engine";
  ServerOptions options;
  options.config_file = ConfigPath("opensource.yaml");
  options.extra_yaml =
      "features:\n  has_temporal: true\n  temporal_threshold: 20\n"
      "  max_batch_size_with_temporal: 300\n";
  ServerProcess server(options);
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);

  Reply small = api.Post("/v1/memory/batch", Batch(20));
  ASSERT_EQ(small.status, 202) << small.Describe();
  EXPECT_FALSE(Durable(small)) << "20 memories (= threshold) run on the executor";
  Reply large = api.Post("/v1/memory/batch?wait=30", Batch(120));
  ASSERT_EQ(large.status, 200) << large.Describe();
  Reply too_large = api.Post("/v1/memory/batch", Batch(301));
  EXPECT_EQ(too_large.status, 413) << "the hybrid limit is max_batch_size_with_temporal";

  std::string_view large_id, small_id;
  ASSERT_EQ(large.Json()["batch_id"].get(large_id), simdjson::SUCCESS);
  ASSERT_EQ(small.Json()["batch_id"].get(small_id), simdjson::SUCCESS);
  Reply large_status = api.Get("/v1/memory/batch/status/" + std::string(large_id));
  bool durable = false;
  ASSERT_EQ(large_status.Json()["durable"].get(durable), simdjson::SUCCESS);
  EXPECT_TRUE(durable) << "121+ memories run as a durable workflow";
  // Both runners' batches are listed, newest first.
  Reply list = api.Get("/v1/memory/batch?limit=10");
  ASSERT_EQ(list.status, 200);
  simdjson::dom::array batches;
  ASSERT_EQ(list.Json()["batches"].get(batches), simdjson::SUCCESS);
  ASSERT_EQ(batches.size(), 2u) << list.body;
  std::string_view first;
  ASSERT_EQ(batches.at(0)["batch_id"].get(first), simdjson::SUCCESS);
  EXPECT_EQ(first, large_id) << "newest first";
  // The durable batch has a history; the in-memory one does not.
  EXPECT_EQ(api.Get("/v1/admin/workflows/" + std::string(large_id) + "/history").status, 200);
  EXPECT_EQ(api.Get("/v1/admin/workflows/" + std::string(small_id) + "/history").status, 404);
}

}  // namespace
}  // namespace papr::integration
