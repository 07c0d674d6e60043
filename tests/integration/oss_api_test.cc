// The HTTP contract of /work/shared/API.md ("Memories", "Batches", auth, errors, health,
// restarts) against the real papr-server of the open-source edition (config/opensource.yaml).
// Every test runs its own server on port 0 with its own temp data dir.

#include <chrono>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include "tests/integration/api_client.h"
#include "tests/integration/batch_polling.h"
#include "tests/integration/server_process.h"

namespace papr::integration {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;

constexpr int kOssBatchLimit = 50;

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

bool IsRfc3339Utc(const std::string& s) {
  static const std::regex kRe(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$)");
  return std::regex_match(s, kRe);
}

array Arr(simdjson::simdjson_result<element> v) { return v.get_array().value(); }
element At(simdjson::simdjson_result<element> v, size_t i) { return v.at(i).value(); }

std::string MemoryJson(const std::string& content) {
  return "{\"content\":" + JsonQuote(content) + "}";
}

// {"memories":[{"content":"<prefix> memory number i"}, ...]} with n memories.
std::string BatchJson(int n, const std::string& prefix) {
  std::string body = "{\"memories\":[";
  for (int i = 0; i < n; ++i) {
    if (i > 0) body += ",";
    body += MemoryJson(prefix + " memory number " + std::to_string(i));
  }
  return body + "]}";
}

// POST /v1/memory; returns the new memoryId ("" and a test failure otherwise).
std::string AddMemory(const ApiClient& api, const std::string& body) {
  Reply r = api.Post("/v1/memory", body);
  EXPECT_EQ(r.status, 200) << r.Describe();
  if (r.status != 200) return "";
  return Str(At(r.Json()["data"], 0)["memoryId"]);
}

std::string AddText(const ApiClient& api, const std::string& content) {
  return AddMemory(api, MemoryJson(content));
}

// Polls the status route until the batch ends (or 20 s pass), checking every state seen is
// one of API.md's. Returns the last answer.
Reply WaitForBatchEnd(const ApiClient& api, const std::string& batch_id) {
  const std::set<std::string> kStates = {"queued",  "processing", "completed", "partial",
                                         "failed",  "cancelling", "cancelled"};
  return PollStatus(
      api, batch_id,
      [&kStates](const Reply& r) {
        std::string state = Str(r.Json()["status"]);
        EXPECT_TRUE(kStates.count(state)) << "unknown batch status " << state;
        return IsTerminalState(state);
      },
      std::chrono::seconds(20), {.interval_ms = 20});
}

std::vector<std::string> SearchIds(const ApiClient& api, const std::string& query,
                                   const std::string& query_string = "") {
  Reply r = api.Post("/v1/memory/search" + query_string, "{\"query\":" + JsonQuote(query) + "}");
  EXPECT_EQ(r.status, 200) << r.Describe();
  std::vector<std::string> ids;
  if (r.status != 200) return ids;
  for (element m : Arr(r.Json()["data"]["memories"])) ids.push_back(Str(m["memoryId"]));
  return ids;
}

std::string OssBatchLimitMessage() {
  YAML::Node config = YAML::LoadFile(ConfigPath("opensource.yaml"));
  return config["messaging"]["batch_limit_message"].as<std::string>();
}

//! Starts one OSS server per test, with a client for the PAPR_API_KEY user ("default").
class OssApiIntegrationTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {}) {
    server_ = std::make_unique<ServerProcess>(std::move(options));
    ASSERT_TRUE(server_->Start());
    api_ = std::make_unique<ApiClient>(server_->port(), kTestApiKey);
  }
  void SetUp() override { StartServer(); }
  ApiClient Client(const std::string& key) const { return ApiClient(server_->port(), key); }
  void Reconnect() { api_ = std::make_unique<ApiClient>(server_->port(), kTestApiKey); }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<ApiClient> api_;
};

// Servers whose config needs more than the shipped opensource.yaml start in the test body.
class OssApiCustomConfigIntegrationTest : public OssApiIntegrationTest {
 protected:
  void SetUp() override {}
};

// ---------------------------------------------------------------- Memories

TEST_F(OssApiIntegrationTest, AddThenGetReturnsContentMetadataHashAndKeywords) {
  const std::string content =
      "Photosynthesis converts sunlight into chemical energy. Photosynthesis happens in "
      "chloroplasts of green plants.";
  const std::string body =
      "{\"content\":" + JsonQuote(content) +
      ",\"type\":\"text\",\"external_user_id\":\"ext-42\","
      "\"metadata\":{\"topics\":[\"biology\",\"plants\"],\"sourceUrl\":\"https://example.com/p\","
      "\"conversationId\":\"conv-7\",\"customMetadata\":{\"project\":\"apollo\",\"priority\":3}},"
      "\"context\":[{\"role\":\"user\",\"content\":\"tell me about plants\"}]}";
  Reply add = api_->Post("/v1/memory", body);
  ASSERT_EQ(add.status, 200) << add.Describe();
  element a = add.Json();
  EXPECT_EQ(Int(a["code"]), 200);
  EXPECT_EQ(Str(a["status"]), "success");
  element item = At(a["data"], 0);
  const std::string id = Str(item["memoryId"]);
  ASSERT_FALSE(id.empty());
  EXPECT_TRUE(IsRfc3339Utc(Str(item["createdAt"]))) << Str(item["createdAt"]);
  EXPECT_FALSE(Str(item["objectId"]).empty());
  EXPECT_TRUE(item["memoryChunkIds"].is_array());

  Reply get = api_->Get("/v1/memory/" + id);
  ASSERT_EQ(get.status, 200) << get.Describe();
  element g = get.Json();
  EXPECT_EQ(Int(g["code"]), 200);
  EXPECT_EQ(Str(g["status"]), "success");
  EXPECT_TRUE(g["data"]["nodes"].is_array());
  ASSERT_EQ(Arr(g["data"]["memories"]).size(), 1u);
  element m = At(g["data"]["memories"], 0);
  EXPECT_EQ(Str(m["id"]), id);
  EXPECT_EQ(Str(m["memoryId"]), id);
  EXPECT_EQ(Str(m["content"]), content);
  EXPECT_EQ(Str(m["type"]), "text");
  EXPECT_EQ(Str(m["user_id"]), "default");
  EXPECT_TRUE(m["acl"].is_object());
  EXPECT_TRUE(IsRfc3339Utc(Str(m["createdAt"]))) << Str(m["createdAt"]);
  EXPECT_EQ(Str(m["external_user_id"]), "ext-42");
  // Metadata kept as given...
  EXPECT_EQ(Raw(m["metadata"]["topics"]), R"(["biology","plants"])");
  EXPECT_EQ(Str(m["metadata"]["sourceUrl"]), "https://example.com/p");
  EXPECT_EQ(Str(m["metadata"]["conversationId"]), "conv-7");
  EXPECT_EQ(Raw(m["metadata"]["customMetadata"]), R"({"project":"apollo","priority":3})");
  // ...and lifted to the top level as Papr does.
  EXPECT_EQ(Raw(m["topics"]), R"(["biology","plants"])");
  EXPECT_EQ(Raw(m["customMetadata"]), R"({"project":"apollo","priority":3})");
  EXPECT_EQ(Str(m["content_hash"]), Sha256Hex(content));
  EXPECT_EQ(Int(m["word_count"]), 13);
  bool has_keyword = false;
  for (element k : Arr(m["keywords"])) has_keyword = has_keyword || Str(k) == "photosynthesis";
  EXPECT_TRUE(has_keyword) << Raw(m["keywords"]);
}

TEST_F(OssApiIntegrationTest, TypeDefaultsToText) {
  std::string id = AddText(*api_, "plain memory without a type");
  Reply get = api_->Get("/v1/memory/" + id);
  ASSERT_EQ(get.status, 200) << get.Describe();
  EXPECT_EQ(Str(At(get.Json()["data"]["memories"], 0)["type"]), "text");
  EXPECT_FALSE(At(get.Json()["data"]["memories"], 0)["batch_id"].is_string());
}

TEST_F(OssApiIntegrationTest, DeleteThenGetAnswers404) {
  std::string id = AddText(*api_, "ephemeral quokka memory");
  ASSERT_FALSE(id.empty());
  Reply del = api_->Delete("/v1/memory/" + id);
  EXPECT_EQ(del.status, 200) << del.Describe();
  EXPECT_TRUE(IsErrorEnvelope(api_->Get("/v1/memory/" + id), 404));
  EXPECT_TRUE(SearchIds(*api_, "quokka").empty());
  EXPECT_TRUE(IsErrorEnvelope(api_->Get("/v1/memory/no-such-memory-id"), 404));
}

TEST_F(OssApiIntegrationTest, SearchRanksRareWordFirstAndHonoursMaxMemories) {
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    std::string content = "garden notes day " + std::to_string(i) + ": watered the garden beds";
    if (i == 13) content = "garden notes: the xylophone lesson was moved to the garden shed";
    ids.push_back(AddText(*api_, content));
  }
  Reply r = api_->Post("/v1/memory/search", R"({"query":"xylophone"})");
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(Int(r.Json()["code"]), 200);
  EXPECT_EQ(Str(r.Json()["status"]), "success");
  EXPECT_TRUE(r.Json()["data"]["nodes"].is_array());
  array hits = Arr(r.Json()["data"]["memories"]);
  ASSERT_GE(hits.size(), 1u);
  EXPECT_EQ(Str(At(r.Json()["data"]["memories"], 0)["memoryId"]), ids[13]);
  EXPECT_TRUE(At(r.Json()["data"]["memories"], 0)["score"].is_number());

  // A rare word among common ones still ranks its memory first.
  std::vector<std::string> mixed = SearchIds(*api_, "garden xylophone");
  ASSERT_FALSE(mixed.empty());
  EXPECT_EQ(mixed[0], ids[13]);

  EXPECT_EQ(SearchIds(*api_, "garden").size(), 10u) << "default max_memories is 10";
  EXPECT_EQ(SearchIds(*api_, "garden", "?max_memories=3").size(), 3u);
  EXPECT_EQ(SearchIds(*api_, "garden", "?max_memories=20").size(), 20u);
  Reply body_limit = api_->Post("/v1/memory/search", R"({"query":"garden","max_memories":5})");
  ASSERT_EQ(body_limit.status, 200) << body_limit.Describe();
  EXPECT_EQ(Arr(body_limit.Json()["data"]["memories"]).size(), 5u);

  // Scores come in non-increasing order.
  Reply all = api_->Post("/v1/memory/search?max_memories=20", R"({"query":"garden xylophone"})");
  ASSERT_EQ(all.status, 200) << all.Describe();
  double previous = 1e300;
  for (element m : Arr(all.Json()["data"]["memories"])) {
    double score = m["score"].get_double().value();
    EXPECT_LE(score, previous);
    previous = score;
  }
}

TEST_F(OssApiIntegrationTest, MalformedJsonAnswers400WithOffset) {
  const std::string bad = R"({"content": "abc",})";
  Reply r = api_->Post("/v1/memory", bad);
  ASSERT_TRUE(IsErrorEnvelope(r, 400));
  EXPECT_EQ(Int(r.Json()["details"]["offset"]), static_cast<int64_t>(bad.size() - 1)) << r.body;

  Reply truncated = api_->Post("/v1/memory", R"({"content":)");
  ASSERT_TRUE(IsErrorEnvelope(truncated, 400));
  EXPECT_TRUE(truncated.Json()["details"]["offset"].is_int64()) << truncated.body;

  Reply batch = api_->Post("/v1/memory/batch", R"({"memories": [)");
  ASSERT_TRUE(IsErrorEnvelope(batch, 400));
  EXPECT_TRUE(batch.Json()["details"]["offset"].is_int64()) << batch.body;

  Reply search = api_->Post("/v1/memory/search", "{query}");
  ASSERT_TRUE(IsErrorEnvelope(search, 400));
  EXPECT_EQ(Int(search.Json()["details"]["offset"]), 1) << search.body;
}

// 400 or 422, and the answer names `field`.
::testing::AssertionResult NamesInvalidField(const Reply& r, const std::string& field) {
  if (r.status != 400 && r.status != 422) {
    return ::testing::AssertionFailure() << "expected 400/422: " << r.Describe();
  }
  auto envelope = IsErrorEnvelope(r, r.status);
  if (!envelope) return envelope;
  std::string_view details_field;
  bool in_details = r.Json()["details"]["field"].get(details_field) == simdjson::SUCCESS &&
                    details_field == field;
  if (in_details || Str(r.Json()["error"]).find(field) != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "answer does not name '" << field << "': " << r.body;
}

TEST_F(OssApiIntegrationTest, MissingOrInvalidContentNamesTheField) {
  EXPECT_TRUE(NamesInvalidField(api_->Post("/v1/memory", R"({"type":"text"})"), "content"));
  EXPECT_TRUE(NamesInvalidField(api_->Post("/v1/memory", R"({"content":42})"), "content"));
  EXPECT_TRUE(NamesInvalidField(api_->Post("/v1/memory", R"({"content":"x","type":"video"})"),
                                "type"));
  EXPECT_TRUE(IsErrorEnvelope(api_->Post("/v1/memory", R"(["content"])"), 400));
  EXPECT_TRUE(NamesInvalidField(api_->Post("/v1/memory/search", R"({"q":"x"})"), "query"));
}

TEST_F(OssApiIntegrationTest, OversizeContentIsRejectedNamingTheLimit) {
  EXPECT_FALSE(AddText(*api_, std::string(15000, 'a')).empty()) << "15000 bytes is allowed";
  Reply r = api_->Post("/v1/memory", MemoryJson(std::string(15001, 'a')));
  ASSERT_TRUE(r.status == 400 || r.status == 413 || r.status == 422) << r.Describe();
  ASSERT_TRUE(IsErrorEnvelope(r, r.status));
  EXPECT_NE(r.body.find("15000"), std::string::npos) << "limit not named: " << r.body;
  std::string_view field;
  if (r.Json()["details"]["field"].get(field) == simdjson::SUCCESS) {
    EXPECT_EQ(field, "content");
  }
}

// ---------------------------------------------------------------- Auth, routing, limits

TEST_F(OssApiIntegrationTest, MissingOrUnknownKeyAnswers401AndBearerWorks) {
  ApiClient anonymous = Client("");
  EXPECT_TRUE(IsErrorEnvelope(anonymous.Post("/v1/memory", MemoryJson("x")), 401));
  EXPECT_TRUE(IsErrorEnvelope(anonymous.Get("/v1/memory/abc"), 401));
  EXPECT_TRUE(IsErrorEnvelope(anonymous.Post("/v1/memory/search", R"({"query":"x"})"), 401));
  EXPECT_TRUE(IsErrorEnvelope(anonymous.Post("/v1/memory/batch", BatchJson(1, "x")), 401));
  EXPECT_TRUE(IsErrorEnvelope(anonymous.Get("/v1/memory/batch"), 401));
  ApiClient wrong = Client("not-a-key");
  EXPECT_TRUE(IsErrorEnvelope(wrong.Post("/v1/memory", MemoryJson("x")), 401));
  ApiClient wrong_bearer = Client("not-a-key");
  wrong_bearer.set_bearer(true);
  EXPECT_TRUE(IsErrorEnvelope(wrong_bearer.Get("/v1/memory/batch"), 401));

  ApiClient bearer = Client(kTestApiKey);
  bearer.set_bearer(true);
  std::string id = AddText(bearer, "added with a bearer token");
  ASSERT_FALSE(id.empty());
  Reply get = bearer.Get("/v1/memory/" + id);
  EXPECT_EQ(get.status, 200) << get.Describe();
  EXPECT_EQ(api_->Get("/v1/memory/" + id).status, 200) << "same user through X-API-Key";
}

TEST_F(OssApiIntegrationTest, HealthAndReadinessNeedNoKey) {
  ApiClient anonymous = Client("");
  Reply health = anonymous.Get("/healthz");
  EXPECT_EQ(health.status, 200) << health.Describe();
  Reply ready = anonymous.Get("/readyz");
  EXPECT_EQ(ready.status, 200) << ready.Describe();
}

TEST_F(OssApiIntegrationTest, MetricsNeedNoKeyAndArePrometheusText) {
  Reply metrics = Client("").Get("/metrics");
  EXPECT_EQ(metrics.status, 200) << metrics.Describe();
  EXPECT_NE(metrics.Header("content-type").find("text/plain"), std::string_view::npos)
      << metrics.Header("content-type");
}

TEST_F(OssApiIntegrationTest, UnknownRouteAnswers404AndWrongMethod405) {
  EXPECT_TRUE(IsErrorEnvelope(api_->Get("/v1/nothing-here"), 404));
  EXPECT_TRUE(IsErrorEnvelope(api_->Get("/nothing-here"), 404));
  EXPECT_TRUE(IsErrorEnvelope(api_->Get("/v1/memory/batch/some-id/unknown-action"), 404));
  EXPECT_TRUE(IsErrorEnvelope(api_->Call("PUT", "/v1/memory", MemoryJson("x")), 405));
  EXPECT_TRUE(IsErrorEnvelope(api_->Get("/v1/memory"), 405));
  EXPECT_TRUE(IsErrorEnvelope(api_->Get("/v1/memory/search"), 405));
  EXPECT_TRUE(IsErrorEnvelope(api_->Delete("/v1/memory/batch"), 405));
  EXPECT_TRUE(IsErrorEnvelope(api_->Post("/v1/memory/some-id", MemoryJson("x")), 405));
  EXPECT_TRUE(IsErrorEnvelope(api_->Post("/v1/memory/batch/status/some-id", "{}"), 405));
  EXPECT_TRUE(IsErrorEnvelope(api_->Get("/v1/memory/batch/some-id/cancel"), 405));
}

TEST_F(OssApiCustomConfigIntegrationTest, BodyOverMaxRequestBytesAnswers413) {
  ServerOptions options;
  options.extra_yaml = "limits:\n  max_request_bytes: 2048\n";
  StartServer(options);
  EXPECT_FALSE(AddText(*api_, std::string(1000, 'b')).empty()) << "a small body still fits";
  Reply r = api_->Post("/v1/memory", MemoryJson(std::string(4000, 'b')));
  EXPECT_TRUE(IsErrorEnvelope(r, 413));
  Reply batch = api_->Post("/v1/memory/batch", BatchJson(50, std::string(100, 'c')));
  EXPECT_TRUE(IsErrorEnvelope(batch, 413));
  EXPECT_EQ(api_->Get("/healthz").status, 200) << "server still serves";
}

TEST_F(OssApiCustomConfigIntegrationTest, AnotherUsersMemoryAndBatchAnswer404) {
  ServerOptions options;
  options.extra_yaml =
      "auth:\n  api_keys:\n    - {key: key-alice, user_id: alice}\n"
      "    - {key: key-bob, user_id: bob}\n";
  StartServer(options);
  ApiClient alice = Client("key-alice");
  ApiClient bob = Client("key-bob");
  std::string memory_id = AddText(alice, "alice private okapi note");
  ASSERT_FALSE(memory_id.empty());
  std::string batch_id = SubmitBatch(alice, BatchJson(3, "alice okapi batch"));
  ASSERT_FALSE(batch_id.empty());
  WaitForBatchEnd(alice, batch_id);

  Reply own = alice.Get("/v1/memory/" + memory_id);
  ASSERT_EQ(own.status, 200) << own.Describe();
  EXPECT_EQ(Str(At(own.Json()["data"]["memories"], 0)["user_id"]), "alice");

  EXPECT_TRUE(IsErrorEnvelope(bob.Get("/v1/memory/" + memory_id), 404));
  EXPECT_TRUE(IsErrorEnvelope(bob.Delete("/v1/memory/" + memory_id), 404));
  EXPECT_TRUE(SearchIds(bob, "okapi").empty());
  EXPECT_TRUE(IsErrorEnvelope(bob.Get("/v1/memory/batch/status/" + batch_id), 404));
  EXPECT_TRUE(IsErrorEnvelope(bob.Get("/v1/memory/batch/" + batch_id + "/results"), 404));
  EXPECT_TRUE(IsErrorEnvelope(bob.Post("/v1/memory/batch/" + batch_id + "/cancel", ""), 404));
  Reply bob_list = bob.Get("/v1/memory/batch");
  ASSERT_EQ(bob_list.status, 200) << bob_list.Describe();
  EXPECT_EQ(Arr(bob_list.Json()["batches"]).size(), 0u);
  // The default user of PAPR_API_KEY is a third user.
  EXPECT_TRUE(IsErrorEnvelope(api_->Get("/v1/memory/" + memory_id), 404));

  // Bob's attempts changed nothing for Alice.
  EXPECT_EQ(alice.Get("/v1/memory/" + memory_id).status, 200);
  EXPECT_EQ(SearchIds(alice, "okapi").size(), 4u);
  EXPECT_EQ(alice.Get("/v1/memory/batch/status/" + batch_id).status, 200);
}

// ---------------------------------------------------------------- Batches

TEST_F(OssApiIntegrationTest, BatchOverEditionLimitAnswers413WithUpgradeDetails) {
  Reply r = api_->Post("/v1/memory/batch", BatchJson(kOssBatchLimit + 1, "too many"));
  ASSERT_TRUE(IsErrorEnvelope(r, 413));
  element e = r.Json();
  EXPECT_EQ(Str(e["error"]), "Batch size (51) exceeds limit (50)");
  EXPECT_EQ(Int(e["details"]["batch_size"]), 51);
  EXPECT_EQ(Int(e["details"]["max_batch_size"]), 50);
  EXPECT_FALSE(Str(e["details"]["upgrade_info"]).empty());
  EXPECT_EQ(Str(e["details"]["upgrade_info"]), OssBatchLimitMessage());
  EXPECT_EQ(Str(e["details"]["upgrade_url"]), "https://papr.ai/cloud");
  // Nothing was accepted.
  EXPECT_TRUE(SearchIds(*api_, "many").empty());
  Reply list = api_->Get("/v1/memory/batch");
  ASSERT_EQ(list.status, 200) << list.Describe();
  EXPECT_EQ(Arr(list.Json()["batches"]).size(), 0u);
}

TEST_F(OssApiIntegrationTest, BatchValidationListsEveryInvalidIndexAndStoresNothing) {
  const std::string body = "{\"memories\":[" + MemoryJson("valid wombat one") +
                           R"(,{"type":"text"},)" + MemoryJson("valid wombat two") +
                           R"(,{"content":7},)" + MemoryJson(std::string(15001, 'z')) + "]}";
  Reply r = api_->Post("/v1/memory/batch", body);
  ASSERT_TRUE(IsErrorEnvelope(r, 422));
  std::vector<int64_t> indexes;
  for (element err : Arr(r.Json()["details"]["errors"])) {
    indexes.push_back(Int(err["index"]));
    EXPECT_FALSE(Str(err["error"]).empty());
  }
  EXPECT_EQ(indexes, (std::vector<int64_t>{1, 3, 4})) << r.body;
  EXPECT_TRUE(SearchIds(*api_, "wombat").empty());
  Reply list = api_->Get("/v1/memory/batch");
  ASSERT_EQ(list.status, 200) << list.Describe();
  EXPECT_EQ(Arr(list.Json()["batches"]).size(), 0u);

  Reply empty = api_->Post("/v1/memory/batch", R"({"memories":[]})");
  EXPECT_TRUE(empty.status == 400 || empty.status == 422) << "1..limit: " << empty.Describe();
  EXPECT_TRUE(IsErrorEnvelope(empty, empty.status));
}

TEST_F(OssApiIntegrationTest, BatchOf50CompletesObservedByPolling) {
  Reply accepted = api_->Post("/v1/memory/batch", BatchJson(50, "polled"));
  ASSERT_EQ(accepted.status, 202) << accepted.Describe();
  element a = accepted.Json();
  const std::string id = Str(a["batch_id"]);
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(Int(a["code"]), 202);
  EXPECT_EQ(Str(a["status"]), "processing");
  EXPECT_EQ(accepted.Header("location"), "/v1/memory/batch/status/" + id);
  EXPECT_EQ(Str(a["details"]["batch_id"]), id);
  EXPECT_EQ(Str(a["details"]["status"]), "processing");
  EXPECT_FALSE(Str(a["details"]["workflow_id"]).empty());
  EXPECT_EQ(Str(a["details"]["status_url"]), "/v1/memory/batch/status/" + id);
  EXPECT_FALSE(a["details"]["durable"].get_bool().value()) << "OSS batches are not durable";
  // Papr's BatchMemoryResponse fields, as its clients read them: nothing processed yet.
  EXPECT_EQ(Int(a["total_processed"]), 0) << accepted.body;
  EXPECT_EQ(Int(a["total_successful"]), 0) << accepted.body;
  EXPECT_EQ(Int(a["total_failed"]), 0) << accepted.body;
  EXPECT_EQ(a["successful"].get_array().size(), 0u) << accepted.body;
  EXPECT_EQ(a["errors"].get_array().size(), 0u) << accepted.body;

  Reply done = WaitForBatchEnd(*api_, id);
  ASSERT_EQ(done.status, 200);
  element s = done.Json();
  EXPECT_EQ(Str(s["status"]), "completed") << done.body;
  EXPECT_EQ(Str(s["batch_id"]), id);
  EXPECT_FALSE(Str(s["workflow_id"]).empty());
  EXPECT_FALSE(s["durable"].get_bool().value());
  EXPECT_EQ(Int(s["request_counts"]["total"]), 50);
  EXPECT_EQ(Int(s["request_counts"]["succeeded"]), 50);
  EXPECT_EQ(Int(s["request_counts"]["failed"]), 0);
  EXPECT_EQ(Int(s["request_counts"]["processing"]), 0);
  EXPECT_EQ(Int(s["request_counts"]["canceled"]), 0);
  EXPECT_EQ(Int(s["total_processed"]), 50);
  EXPECT_EQ(Int(s["total_successful"]), 50);
  EXPECT_EQ(Int(s["total_failed"]), 0);
  EXPECT_EQ(Arr(s["errors"]).size(), 0u);
  for (const char* t : {"created_at", "started_at", "updated_at", "completed_at"}) {
    EXPECT_TRUE(IsRfc3339Utc(Str(s[t]))) << t << " = " << Raw(s[t]);
  }
  EXPECT_LE(Str(s["created_at"]), Str(s["completed_at"]));
  EXPECT_EQ(Str(s["webhook"]["status"]), "none");
  EXPECT_EQ(SearchIds(*api_, "polled", "?max_memories=100").size(), 50u);
}

TEST_F(OssApiIntegrationTest, BatchWithWaitAnswersFinalBatchMemoryResponse) {
  Reply r = api_->Call("POST", "/v1/memory/batch?wait=30", BatchJson(50, "waited"), {}, 40000);
  ASSERT_EQ(r.status, 200) << r.Describe();
  element b = r.Json();
  EXPECT_EQ(Int(b["code"]), 200);
  EXPECT_EQ(Str(b["status"]), "success");
  const std::string batch_id = Str(b["batch_id"]);
  EXPECT_FALSE(batch_id.empty());
  std::set<int64_t> indexes;
  std::string some_memory;
  for (element item : Arr(b["successful"])) {
    indexes.insert(Int(item["index"]));
    std::string memory_id = Str(At(item["data"], 0)["memoryId"]);
    EXPECT_FALSE(memory_id.empty());
    some_memory = memory_id;
  }
  EXPECT_EQ(indexes.size(), 50u);
  EXPECT_EQ(*indexes.begin(), 0);
  EXPECT_EQ(*indexes.rbegin(), 49);
  EXPECT_EQ(Arr(b["errors"]).size(), 0u);
  EXPECT_EQ(Int(b["total_processed"]), 50);
  EXPECT_EQ(Int(b["total_successful"]), 50);
  EXPECT_EQ(Int(b["total_failed"]), 0);
  Reply get = api_->Get("/v1/memory/" + some_memory);
  ASSERT_EQ(get.status, 200) << get.Describe();
  EXPECT_EQ(Str(At(get.Json()["data"]["memories"], 0)["batch_id"]), batch_id);
}

TEST_F(OssApiIntegrationTest, BatchResultsPageThroughAllMemories) {
  std::string id = SubmitBatch(*api_, BatchJson(50, "paged"));
  ASSERT_FALSE(id.empty());
  WaitForBatchEnd(*api_, id);
  std::vector<std::string> memory_ids;
  std::string query = "?limit=20";
  std::vector<int64_t> cursors;
  for (int page = 0; page < 10; ++page) {
    Reply r = api_->Get("/v1/memory/batch/" + id + "/results" + query);
    ASSERT_EQ(r.status, 200) << r.Describe();
    array results = Arr(r.Json()["results"]);
    EXPECT_LE(results.size(), 20u);
    for (element item : results) {
      EXPECT_EQ(Int(item["index"]), static_cast<int64_t>(memory_ids.size())) << "index order";
      EXPECT_EQ(Str(item["status"]), "succeeded");
      EXPECT_TRUE(item["error"].is_null()) << Raw(item);
      memory_ids.push_back(Str(item["memoryId"]));
    }
    if (r.Json()["next_after"].is_null()) break;
    int64_t next = Int(r.Json()["next_after"]);
    cursors.push_back(next);
    query = "?after=" + std::to_string(next) + "&limit=20";
  }
  EXPECT_EQ(cursors, (std::vector<int64_t>{19, 39}));
  ASSERT_EQ(memory_ids.size(), 50u);
  EXPECT_EQ(std::set<std::string>(memory_ids.begin(), memory_ids.end()).size(), 50u);
  for (size_t i = 0; i < memory_ids.size(); ++i) {
    Reply get = api_->Get("/v1/memory/" + memory_ids[i]);
    ASSERT_EQ(get.status, 200) << get.Describe();
    element m = At(get.Json()["data"]["memories"], 0);
    EXPECT_EQ(Str(m["content"]), "paged memory number " + std::to_string(i));
    EXPECT_EQ(Str(m["batch_id"]), id);
  }
  // Default limit (100) returns everything at once.
  Reply all = api_->Get("/v1/memory/batch/" + id + "/results");
  ASSERT_EQ(all.status, 200) << all.Describe();
  EXPECT_EQ(Arr(all.Json()["results"]).size(), 50u);
  EXPECT_TRUE(all.Json()["next_after"].is_null());
}

TEST_F(OssApiIntegrationTest, BatchListIsNewestFirstWithCursor) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(SubmitBatch(*api_, BatchJson(2, "listed " + std::to_string(i))));
    WaitForBatchEnd(*api_, ids.back());
  }
  Reply r = api_->Get("/v1/memory/batch");
  ASSERT_EQ(r.status, 200) << r.Describe();
  std::vector<std::string> listed;
  for (element b : Arr(r.Json()["batches"])) listed.push_back(Str(b["batch_id"]));
  EXPECT_EQ(listed, (std::vector<std::string>{ids[2], ids[1], ids[0]}));

  std::vector<std::string> paged;
  std::string query = "?limit=2";
  for (int page = 0; page < 5; ++page) {
    Reply p = api_->Get("/v1/memory/batch" + query);
    ASSERT_EQ(p.status, 200) << p.Describe();
    array batches = Arr(p.Json()["batches"]);
    EXPECT_LE(batches.size(), 2u);
    for (element b : batches) paged.push_back(Str(b["batch_id"]));
    if (p.Json()["next_after"].is_null()) break;
    query = "?limit=2&after=" + Str(p.Json()["next_after"]);
  }
  EXPECT_EQ(paged, listed);

  Reply completed = api_->Get("/v1/memory/batch?status=completed");
  ASSERT_EQ(completed.status, 200) << completed.Describe();
  EXPECT_EQ(Arr(completed.Json()["batches"]).size(), 3u);
  Reply failed = api_->Get("/v1/memory/batch?status=failed");
  ASSERT_EQ(failed.status, 200) << failed.Describe();
  EXPECT_EQ(Arr(failed.Json()["batches"]).size(), 0u);
}

TEST_F(OssApiIntegrationTest, IdempotencyKeyReturnsSameBatchAndRejectsOtherBody) {
  const std::string body = BatchJson(5, "idempotent");
  Headers key = {{"Idempotency-Key", "it-key-1"}};
  std::string first = SubmitBatch(*api_, body, key);
  ASSERT_FALSE(first.empty());
  Reply again = api_->Post("/v1/memory/batch", body, key);
  ASSERT_TRUE(again.status == 202 || again.status == 200) << again.Describe();
  EXPECT_EQ(Str(again.Json()["batch_id"]), first);
  WaitForBatchEnd(*api_, first);
  Reply after_end = api_->Post("/v1/memory/batch", body, key);
  ASSERT_TRUE(after_end.status == 202 || after_end.status == 200) << after_end.Describe();
  EXPECT_EQ(Str(after_end.Json()["batch_id"]), first);

  Reply other_body = api_->Post("/v1/memory/batch", BatchJson(6, "idempotent"), key);
  EXPECT_TRUE(IsErrorEnvelope(other_body, 422));

  // One run only: one batch listed, five memories stored.
  Reply list = api_->Get("/v1/memory/batch");
  ASSERT_EQ(list.status, 200) << list.Describe();
  EXPECT_EQ(Arr(list.Json()["batches"]).size(), 1u);
  EXPECT_EQ(SearchIds(*api_, "idempotent", "?max_memories=100").size(), 5u);

  std::string other_key = SubmitBatch(*api_, body, {{"Idempotency-Key", "it-key-2"}});
  EXPECT_FALSE(other_key.empty());
  EXPECT_NE(other_key, first);
}

TEST_F(OssApiIntegrationTest, CancelOfFinishedBatchAnswers409) {
  std::string id = SubmitBatch(*api_, BatchJson(3, "finished"));
  ASSERT_FALSE(id.empty());
  Reply done = WaitForBatchEnd(*api_, id);
  ASSERT_EQ(Str(done.Json()["status"]), "completed");
  EXPECT_TRUE(IsErrorEnvelope(api_->Post("/v1/memory/batch/" + id + "/cancel", ""), 409));
  EXPECT_TRUE(IsErrorEnvelope(api_->Post("/v1/memory/batch/no-such-batch/cancel", ""), 404));
  EXPECT_TRUE(IsErrorEnvelope(api_->Get("/v1/memory/batch/status/no-such-batch"), 404));
  EXPECT_TRUE(IsErrorEnvelope(api_->Get("/v1/memory/batch/no-such-batch/results"), 404));
  Reply still = api_->Get("/v1/memory/batch/status/" + id);
  ASSERT_EQ(still.status, 200);
  EXPECT_EQ(Str(still.Json()["status"]), "completed");
}

// ---------------------------------------------------------------- Restarts

TEST_F(OssApiIntegrationTest, GracefulRestartKeepsMemories) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(AddText(*api_, "durable narwhal " + std::to_string(i)));
  std::string batch_id = SubmitBatch(*api_, BatchJson(10, "restart batch"));
  WaitForBatchEnd(*api_, batch_id);
  EXPECT_EQ(server_->Terminate(), 0) << server_->StderrText();
  ASSERT_TRUE(server_->Start());
  Reconnect();
  EXPECT_EQ(api_->Get("/readyz").status, 200);
  for (size_t i = 0; i < ids.size(); ++i) {
    Reply get = api_->Get("/v1/memory/" + ids[i]);
    ASSERT_EQ(get.status, 200) << get.Describe();
    EXPECT_EQ(Str(At(get.Json()["data"]["memories"], 0)["content"]),
              "durable narwhal " + std::to_string(i));
  }
  EXPECT_EQ(SearchIds(*api_, "narwhal").size(), 5u);
  std::vector<std::string> hits = SearchIds(*api_, "narwhal 3");
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0], ids[3]);
  EXPECT_EQ(SearchIds(*api_, "restart", "?max_memories=100").size(), 10u);
}

TEST_F(OssApiIntegrationTest, KillNineKeepsAcknowledgedMemories) {
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    ids.push_back(AddText(*api_, "acknowledged pangolin " + std::to_string(i)));
    ASSERT_FALSE(ids.back().empty());
  }
  server_->Kill9();
  ASSERT_TRUE(server_->Restart()) << "same data dir after kill -9";
  Reconnect();
  for (size_t i = 0; i < ids.size(); ++i) {
    Reply get = api_->Get("/v1/memory/" + ids[i]);
    ASSERT_EQ(get.status, 200) << "memory " << i << " lost: " << get.Describe();
    EXPECT_EQ(Str(At(get.Json()["data"]["memories"], 0)["content"]),
              "acknowledged pangolin " + std::to_string(i));
  }
  EXPECT_EQ(SearchIds(*api_, "pangolin", "?max_memories=100").size(), 20u);
  // And the restarted server takes new writes.
  EXPECT_FALSE(AddText(*api_, "after the crash").empty());
}

}  // namespace
}  // namespace papr::integration
