// The search index across kill -9, against the real papr-server (cloud edition): batches are
// ingested while the server is killed and restarted; afterwards every stored memory is found
// exactly once by its unique token (none missing from the index, none in it twice), and a
// single POST /v1/memory is searchable as soon as it answers; a DELETE vanishes at once.

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/integration/api_client.h"
#include "tests/integration/batch_polling.h"
#include "tests/integration/server_process.h"

namespace papr::integration {
namespace {

std::string Token(int batch, int i) {
  return "sc" + std::to_string(batch) + "x" + std::to_string(i);
}

std::string Content(int batch, int i) {
  return "search crash note " + Token(batch, i) + " about the river garden and its quiet morning";
}

ServerOptions Cloud() {
  ServerOptions o;
  o.config_file = ConfigPath("cloud.yaml");
  return o;
}

// Submits batch `b` of `n` memories; retried through restarts with an Idempotency-Key.
std::string Submit(const ApiClient& api, int b, int n) {
  std::string body = BatchBody(n, [b](int i) { return Content(b, i); });
  Reply r = api.Post("/v1/memory/batch", body, {{"idempotency-key", "search-crash-" + std::to_string(b)}});
  EXPECT_EQ(r.status, 202) << r.Describe();
  return r.status == 202 ? Str(r.Json()["batch_id"]) : "";
}

TEST(SearchCrashTest, EveryMemoryIsFoundExactlyOnceAfterKill9DuringIngest) {
  constexpr int kBatches = 4;
  constexpr int kPerBatch = 1500;
  ServerProcess server(Cloud());
  ASSERT_TRUE(server.Start());
  std::vector<std::string> ids;
  for (int b = 0; b < kBatches; ++b) {
    ids.push_back(Submit(ApiClient(server.port(), kTestApiKey), b, kPerBatch));
  }
  // Kill while the batches are being stored and indexed, three times.
  for (int kill : {400, 900, 1500}) {
    std::this_thread::sleep_for(std::chrono::milliseconds(kill));
    server.Kill9();
    ASSERT_TRUE(server.Start());
  }
  ApiClient api(server.port(), kTestApiKey);
  for (const auto& id : ids) {
    ASSERT_FALSE(id.empty());
    Reply end = WaitForEnd(api, id, std::chrono::seconds(180));
    ASSERT_EQ(Str(end.Json()["status"]), "completed") << end.Describe();
  }
  int missing = 0;
  int doubled = 0;
  for (int b = 0; b < kBatches; ++b) {
    for (int i = 0; i < kPerBatch; ++i) {
      auto hits = SearchContents(api, Token(b, i));
      missing += hits.empty() ? 1 : 0;
      doubled += hits.size() > 1 ? 1 : 0;
      if (hits.size() == 1) {
        EXPECT_EQ(hits[0], Content(b, i));
      }
    }
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(doubled, 0);
}

TEST(SearchCrashTest, SingleAddIsSearchableWhenItAnswersAndDeleteVanishesAtOnce) {
  ServerProcess server(Cloud());
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  for (int i = 0; i < 20; ++i) {
    std::string token = "single" + std::to_string(i) + "q";
    Reply r = api.Post("/v1/memory", "{\"content\":\"note " + token + "\"}");
    ASSERT_EQ(r.status, 200) << r.Describe();
    std::string id = Str(r.Json()["data"].at(0)["memoryId"]);
    ASSERT_EQ(SearchContents(api, token).size(), 1u) << token;
    ASSERT_EQ(api.Delete("/v1/memory/" + id).status, 200);
    EXPECT_TRUE(SearchContents(api, token).empty()) << token;
  }
  // And they stay deleted across a kill -9.
  server.Kill9();
  ASSERT_TRUE(server.Start());
  ApiClient again(server.port(), kTestApiKey);
  EXPECT_TRUE(SearchContents(again, "single3q").empty());
}

}  // namespace
}  // namespace papr::integration
