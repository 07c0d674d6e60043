// /metrics: Prometheus text whose counters move with the requests the server answered.
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/api_client.h"
#include "tests/integration/server_process.h"

namespace papr::integration {
namespace {

std::string Batch(int n) {
  std::string body = "{\"memories\":[";
  for (int i = 0; i < n; ++i) body += std::string(i ? "," : "") + "{\"content\":\"m" + std::to_string(i) + "\"}";
  return body + "]}";
}

TEST(MetricsIntegrationTest, CountersMoveWithRejectedBatchesAndRequests) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  ASSERT_EQ(api.Post("/v1/memory/batch", Batch(51)).status, 413);
  ASSERT_EQ(api.Post("/v1/memory/batch?wait=10", Batch(3)).status, 200);
  Reply metrics = ApiClient(server.port(), "").Get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  const std::string& text = metrics.body;
  EXPECT_NE(text.find("papr_batches_rejected_for_size_total 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("papr_http_requests_total{method=\"POST\",route=\"/v1/memory/batch\","
                      "code=\"413\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("papr_batch_size_memories_count 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("papr_batch_size_memories_sum 3\n"), std::string::npos) << text;
  // Every sample line is `name{labels} value` or `name value`.
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty() || line[0] == '#') continue;
    EXPECT_NE(line.rfind(' '), std::string::npos) << line;
    EXPECT_EQ(line.rfind("papr_", 0), 0u) << line;
  }
}

}  // namespace
}  // namespace papr::integration
