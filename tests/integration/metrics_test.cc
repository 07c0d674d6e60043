// /metrics: Prometheus text whose counters move with the requests the server answered.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <thread>

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

// A sample's value in Prometheus text, or -1 when the sample is missing.
int64_t Sample(const std::string& text, const std::string& name) {
  size_t at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stoll(text.substr(at + name.size() + 2));
}

// The process's memory is exposed, and once the server is idle it gives freed heap back
// (server.release_memory_interval_ms): the trim counter moves without any request asking.
// Prometheus' conventions (what promtool check metrics enforces): every family has HELP and
// TYPE, counters end in _total, and durations are in seconds. Cloud edition: the engine's too.
TEST(MetricsIntegrationTest, EveryFamilyFollowsPrometheusNamingConventions) {
  ServerOptions options;
  if (PAPR_WITH_ENGINE) options.config_file = ConfigPath("cloud.yaml");
  ServerProcess server(options);
  ASSERT_TRUE(server.Start());
  Reply metrics = ApiClient(server.port(), "").Get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  std::set<std::string> helped;
  size_t families = 0;
  std::istringstream lines(metrics.body);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# HELP ", 0) == 0) helped.insert(line.substr(7, line.find(' ', 7) - 7));
    if (line.rfind("# TYPE ", 0) != 0) continue;
    ++families;
    std::string name = line.substr(7, line.find(' ', 7) - 7);
    std::string type = line.substr(line.rfind(' ') + 1);
    EXPECT_TRUE(helped.contains(name)) << name << " has no HELP before its TYPE";
    if (type == "counter") EXPECT_TRUE(name.ends_with("_total")) << name;
    for (const char* unit : {"_milliseconds", "_ms", "_microseconds"}) {
      EXPECT_FALSE(name.ends_with(unit)) << name << ": base unit is seconds";
    }
  }
  EXPECT_GT(families, PAPR_WITH_ENGINE ? 20u : 10u) << metrics.body;  // the engine adds its own
}

// Prometheus' own linter on the whole page, after a batch has filled the histograms.
// tools/test.sh installs it (Debian's prometheus) and sets PAPR_REQUIRE_PROMTOOL=1; elsewhere a
// missing promtool skips.
TEST(MetricsIntegrationTest, PromtoolCheckMetricsAcceptsThePage) {
  const char* promtool = "/usr/bin/promtool";
  if (access(promtool, X_OK) != 0) {
    const char* required = std::getenv("PAPR_REQUIRE_PROMTOOL");
    if (required != nullptr && std::string(required) == "1") FAIL() << promtool << " is missing";
    GTEST_SKIP() << promtool << " is missing (apt-get install prometheus)";
  }
  ServerOptions options;
  if (PAPR_WITH_ENGINE) options.config_file = ConfigPath("cloud.yaml");
  ServerProcess server(options);
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  ASSERT_EQ(api.Post("/v1/memory/batch?wait=10", Batch(5)).status, 200);
  Reply metrics = ApiClient(server.port(), "").Get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  std::string page = server.data_dir() + "/../metrics.txt";
  std::string report = server.data_dir() + "/../promtool.txt";
  {
    std::ofstream out(page);
    out << metrics.body;
  }
  int rc = std::system((std::string(promtool) + " check metrics < " + page + " > " + report +
                        " 2>&1").c_str());
  std::ifstream in(report);
  std::string said((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << said;
  EXPECT_EQ(said, "") << said;
}

TEST(MetricsIntegrationTest, ProcessMemoryIsExposedAndTrimmedOnceIdle) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  ASSERT_EQ(api.Post("/v1/memory/batch?wait=10", Batch(20)).status, 200);
  std::string text;
  for (int i = 0; i < 300; ++i) {
    text = ApiClient(server.port(), "").Get("/metrics").body;
    if (Sample(text, "papr_process_memory_trims_total") >= 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GE(Sample(text, "papr_process_memory_trims_total"), 1) << text;
  EXPECT_GE(Sample(text, "papr_process_memory_trimmed_bytes_total"), 0) << text;
  int64_t rss = Sample(text, "papr_process_resident_memory_bytes");
  EXPECT_GT(rss, 1 << 20) << text;
  EXPECT_GE(Sample(text, "papr_process_peak_resident_memory_bytes"), rss) << text;
}

}  // namespace
}  // namespace papr::integration
