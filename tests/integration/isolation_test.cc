// Tenant isolation and secret hygiene of the real papr-server, in both editions (OSS config and,
// in builds with the engine, the cloud config). Two users from auth.api_keys: alice and bob.
// API.md: "Memories and batches belong to the key's user; another user's ids answer 404."
//  - bob cannot GET / DELETE / find by search / see in results alice's memories;
//  - bob cannot read the status, results or events of alice's batch, cancel it, or see it in
//    his list; GET /v1/admin/workflows/{alice_batch}/history answers him 404;
//  - the same Idempotency-Key from bob is not alice's batch;
//  - webhook_secret is never returned by any endpoint nor written to the logs; API keys are
//    never written to the logs (logging.level debug);
//  - a wrong key of the same length as a valid one answers 401.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/integration/api_client.h"
#include "tests/integration/server_process.h"
#include "tools/webhook_receiver/receiver.h"

namespace papr::integration {
namespace {

using simdjson::dom::element;

// Same length on purpose (a wrong key of that length must not pass).
constexpr const char* kAliceKey = "ka-1f0e2d3c4b5a69788796a5b4c3d2e1f0";
constexpr const char* kBobKey = "kb-0a1b2c3d4e5f60718293a4b5c6d7e8f9";
// The secret and its base64 part (neither may ever appear in an answer or a log line).
constexpr const char* kSecret = "whsec_aXNvbGF0aW9uLXRlc3Qtd2ViaG9vay1zZWNyZXQ=";
constexpr const char* kSecretB64 = "aXNvbGF0aW9uLXRlc3Qtd2ViaG9vay1zZWNyZXQ=";
constexpr const char* kSecretRaw = "isolation-test-webhook-secret";

std::string UsersYaml(const std::string& more = "") {
  return std::string("auth:\n  api_keys:\n") + "    - {key: " + kAliceKey +
         ", user_id: alice}\n" + "    - {key: " + kBobKey + ", user_id: bob}\n" +
         "webhooks:\n  allow_private_targets: true\n  retry_schedule_seconds: [0, 1, 1]\n"
         "logging:\n  level: debug\n" + more;
}

ServerOptions EditionOptions(bool cloud) {
  ServerOptions o;
  if (cloud) o.config_file = ConfigPath("cloud.yaml");
  o.extra_yaml = UsersYaml();
  o.api_key = "";  // only alice and bob
  o.start_timeout_ms = 30000;
  return o;
}

int Hits(const ApiClient& api, const std::string& query) {
  Reply r = api.Post("/v1/memory/search?max_memories=20", "{\"query\":" + JsonQuote(query) + "}");
  EXPECT_EQ(r.status, 200) << r.Describe();
  if (r.status != 200) return -1;
  return static_cast<int>(r.Json()["data"]["memories"].get_array().value().size());
}

std::vector<std::string> ListedBatchIds(const ApiClient& api) {
  std::vector<std::string> ids;
  Reply r = api.Get("/v1/memory/batch?limit=100");
  EXPECT_EQ(r.status, 200) << r.Describe();
  if (r.status != 200) return ids;
  // The list's array field: "batches" (or "data").
  element doc = r.Json();
  simdjson::dom::array arr;
  if (doc["batches"].get_array().get(arr) != simdjson::SUCCESS &&
      doc["data"].get_array().get(arr) != simdjson::SUCCESS) {
    ADD_FAILURE() << "batch list without a batches/data array: " << r.body.substr(0, 500);
    return ids;
  }
  for (element b : arr) ids.push_back(Str(b["batch_id"]));
  return ids;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

class IsolationIntegrationTest : public ::testing::Test {
 protected:
  bool StartServer(bool cloud) {
    if (cloud && !PAPR_WITH_ENGINE) return false;
    tools::ReceiverOptions ro;
    ro.secret = kSecret;
    receiver_ = std::make_unique<tools::WebhookReceiver>(ro);
    auto port = receiver_->Start();
    if (!port.ok()) {
      ADD_FAILURE() << "receiver: " << port.status().ToString();
      return false;
    }
    server_ = std::make_unique<ServerProcess>(EditionOptions(cloud));
    auto started = server_->Start();
    if (!started) ADD_FAILURE() << started.message();
    return static_cast<bool>(started);
  }
  void TearDown() override {
    if (HasFailure() && server_) {
      std::string err = server_->StderrText();
      if (err.size() > 5000) err = err.substr(err.size() - 5000);
      std::printf("server stderr (tail):\n%s\n", err.c_str());
    }
    server_.reset();
    if (receiver_) receiver_->Stop();
  }
  ApiClient Alice() const { return ApiClient(server_->port(), kAliceKey); }
  ApiClient Bob() const { return ApiClient(server_->port(), kBobKey); }

  void MemoriesAreIsolated();
  void EndUsersAreIsolatedInSearch();
  void BatchesAreIsolated(bool cloud);
  void WrongKeysAre401();

  std::unique_ptr<tools::WebhookReceiver> receiver_;
  std::unique_ptr<ServerProcess> server_;
};

#define SKIP_UNLESS_STARTED(cloud)                                                          \
  do {                                                                                      \
    if ((cloud) && !PAPR_WITH_ENGINE) GTEST_SKIP() << "cloud edition needs the engine";     \
    ASSERT_TRUE(StartServer(cloud));                                                        \
  } while (0)

// Every answer body seen by the test is checked for the secret.
void ExpectNoSecret(const Reply& r, const std::string& what) {
  for (const char* s : {kSecret, kSecretB64, kSecretRaw}) {
    size_t at = r.body.find(s);
    EXPECT_EQ(at, std::string::npos)
        << what << " returns the webhook secret '" << s << "' at byte " << at << ": ..."
        << (at == std::string::npos ? "" : r.body.substr(at < 300 ? 0 : at - 300, 600)) << "...";
  }
}

void IsolationIntegrationTest::MemoriesAreIsolated() {
  ApiClient alice = Alice(), bob = Bob();
  Reply added = alice.Post("/v1/memory",
                           R"({"content":"alice private note isoalpha42 about the garden"})");
  ASSERT_EQ(added.status, 200) << added.Describe();
  const std::string id = Str(added.Json()["data"].at(0)["memoryId"]);

  Reply g = bob.Get("/v1/memory/" + id);
  EXPECT_TRUE(IsErrorEnvelope(g, 404)) << "bob GETs alice's memory";
  EXPECT_EQ(g.body.find("isoalpha42"), std::string::npos) << g.body;
  Reply d = bob.Delete("/v1/memory/" + id);
  EXPECT_TRUE(IsErrorEnvelope(d, 404)) << "bob DELETEs alice's memory";
  Reply still = alice.Get("/v1/memory/" + id);
  ASSERT_EQ(still.status, 200) << "alice's memory after bob's DELETE: " << still.Describe();
  EXPECT_EQ(Str(still.Json()["data"]["memories"].at(0)["user_id"]), "alice");

  EXPECT_EQ(Hits(bob, "isoalpha42"), 0) << "bob's search finds alice's memory";
  EXPECT_EQ(Hits(alice, "isoalpha42"), 1);

  // Bob's own memory with the same word: each sees only their own.
  Reply bobs = bob.Post("/v1/memory", R"({"content":"bob public isoalpha42 remark"})");
  ASSERT_EQ(bobs.status, 200) << bobs.Describe();
  const std::string bob_id = Str(bobs.Json()["data"].at(0)["memoryId"]);
  EXPECT_EQ(Hits(bob, "isoalpha42"), 1);
  EXPECT_EQ(Hits(alice, "isoalpha42"), 1);
  Reply bs = bob.Post("/v1/memory/search", R"({"query":"isoalpha42 garden private"})");
  ASSERT_EQ(bs.status, 200);
  EXPECT_EQ(bs.body.find(id), std::string::npos) << "alice's id in bob's search: " << bs.body;
  EXPECT_EQ(bs.body.find("alice private note"), std::string::npos) << bs.body;
  EXPECT_TRUE(IsErrorEnvelope(alice.Get("/v1/memory/" + bob_id), 404));
  EXPECT_TRUE(IsErrorEnvelope(alice.Delete("/v1/memory/" + bob_id), 404));
  EXPECT_EQ(bob.Get("/v1/memory/" + bob_id).status, 200);
  // A non-existent id and another user's id answer alike.
  Reply none = bob.Get("/v1/memory/00000000-0000-4000-8000-000000000000");
  EXPECT_TRUE(IsErrorEnvelope(none, 404));

  // Updates, delete-all and end users stay within the key too.
  Reply put = bob.Call("PUT", "/v1/memory/" + id, R"({"content":"bob was here"})");
  EXPECT_TRUE(IsErrorEnvelope(put, 404)) << "bob PUTs alice's memory: " << put.Describe();
  Reply alice_user = alice.Post("/v1/user", R"({"external_id":"iso-end-user"})");
  ASSERT_EQ(alice_user.status, 200) << alice_user.Describe();
  std::string user_id = Str(alice_user.Json()["user_id"]);
  EXPECT_TRUE(IsErrorEnvelope(bob.Get("/v1/user/" + user_id), 404));
  EXPECT_TRUE(IsErrorEnvelope(bob.Get("/v1/user/iso-end-user?is_external=true"), 404));
  EXPECT_TRUE(IsErrorEnvelope(bob.Delete("/v1/user/" + user_id), 404));
  EXPECT_EQ(Int(bob.Get("/v1/user").Json()["total"]), 0);
  Reply wipe = bob.Delete("/v1/memory/all");
  ASSERT_EQ(wipe.status, 200) << wipe.Describe();
  EXPECT_EQ(Int(wipe.Json()["total_successful"]), 1);  // bob's own memory only
  EXPECT_EQ(Str(alice.Get("/v1/memory/" + id).Json()["data"]["memories"].at(0)["content"]),
            "alice private note isoalpha42 about the garden");
  EXPECT_EQ(Hits(alice, "isoalpha42"), 1);
  EXPECT_EQ(alice.Get("/v1/user/" + user_id).status, 200);
}

// End users under one key (Papr's external_user_id): a search with an end user's id finds that
// end user's memories only, from a single add and from a batch item; without one, all of the
// key's memories.
void IsolationIntegrationTest::EndUsersAreIsolatedInSearch() {
  ApiClient alice = Alice();
  for (const char* end_user : {"end-ann", "end-ben"}) {
    Reply added = alice.Post("/v1/memory", std::string(R"({"content":"shared isobeta7 note of )") +
                                               end_user + R"(","external_user_id":")" + end_user +
                                               "\"}");
    ASSERT_EQ(added.status, 200) << added.Describe();
  }
  Reply batch = alice.Call("POST", "/v1/memory/batch?wait=30",
                           R"({"memories":[{"content":"batch isobeta7 item of end-ben",)"
                           R"("external_user_id":"end-ben"}]})",
                           {}, 60000);
  ASSERT_EQ(batch.status, 200) << batch.Describe();
  auto search = [&](const std::string& end_user) {
    std::string body = R"({"query":"isobeta7")";
    if (!end_user.empty()) body += R"(,"external_user_id":")" + end_user + "\"";
    Reply r = alice.Post("/v1/memory/search?max_memories=10", body + "}");
    EXPECT_EQ(r.status, 200) << r.Describe();
    std::vector<std::string> owners;
    if (r.status != 200) return owners;
    for (auto m : r.Json()["data"]["memories"].get_array()) owners.push_back(Str(m["external_user_id"]));
    std::sort(owners.begin(), owners.end());
    return owners;
  };
  EXPECT_EQ(search("end-ann"), std::vector<std::string>{"end-ann"});
  EXPECT_EQ(search("end-ben"), (std::vector<std::string>{"end-ben", "end-ben"}));
  EXPECT_TRUE(search("end-nobody").empty());
  EXPECT_EQ(search("").size(), 3u);  // the key's user sees all of its end users
  Reply bad = alice.Post("/v1/memory/search", R"({"query":"isobeta7","external_user_id":7})");
  EXPECT_TRUE(IsErrorEnvelope(bad, 400)) << bad.Describe();
  EXPECT_EQ(Str(bad.Json()["details"]["field"]), "external_user_id") << bad.body;
}

void IsolationIntegrationTest::BatchesAreIsolated(bool cloud) {
  ApiClient alice = Alice(), bob = Bob();
  std::string body = "{\"memories\":[";
  for (int i = 0; i < 6; ++i) {
    if (i > 0) body += ",";
    body += "{\"content\":\"alice batch memory isobeta" + std::to_string(i) + "x about rivers\"}";
  }
  body += "],\"webhook_url\":" + JsonQuote(receiver_->Url("/iso")) +
          ",\"webhook_secret\":" + JsonQuote(kSecret) + "}";
  Headers key = {{"Idempotency-Key", "iso-shared-key-1"}};

  // Submit (202), then wait for the end with ?wait= on the same key (same batch).
  Reply accepted = alice.Post("/v1/memory/batch", body, key);
  ASSERT_EQ(accepted.status, 202) << accepted.Describe();
  ExpectNoSecret(accepted, "202 submit answer");
  const std::string id = Str(accepted.Json()["batch_id"]);
  Reply waited = alice.Call("POST", "/v1/memory/batch?wait=30", body, key, 60000);
  ASSERT_TRUE(waited.status == 200 || waited.status == 202) << waited.Describe();
  ExpectNoSecret(waited, "?wait= answer");
  EXPECT_EQ(Str(waited.Json()["batch_id"]), id);
  // A fresh ?wait= submit (no key) too: its final BatchMemoryResponse has no secret.
  Reply waited2 = alice.Call("POST", "/v1/memory/batch?wait=30", body, {}, 60000);
  EXPECT_EQ(waited2.status, 200) << waited2.Describe();
  ExpectNoSecret(waited2, "?wait= final answer");

  // Alice's batch ends and its webhook is delivered (signed with the secret).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  Reply st;
  while (true) {
    st = alice.Get("/v1/memory/batch/status/" + id);
    ASSERT_EQ(st.status, 200) << st.Describe();
    std::string wh = Str(st.Json()["webhook"]["status"]);
    if (wh == "delivered" || wh == "failed") break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << st.body;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(Str(st.Json()["status"]), "completed") << st.body;
  EXPECT_EQ(Str(st.Json()["webhook"]["status"]), "delivered") << st.body;
  ExpectNoSecret(st, "batch status");

  Reply results = alice.Get("/v1/memory/batch/" + id + "/results");
  ASSERT_EQ(results.status, 200) << results.Describe();
  ExpectNoSecret(results, "results");
  std::vector<std::string> memory_ids;
  simdjson::dom::array rows = results.Json()["results"].get_array().value();
  for (element row : rows) memory_ids.push_back(Str(row["memoryId"]));
  ASSERT_EQ(memory_ids.size(), 6u);
  Reply list = alice.Get("/v1/memory/batch?limit=100");
  ASSERT_EQ(list.status, 200) << list.Describe();
  ExpectNoSecret(list, "batch list");
  EXPECT_TRUE(Contains(ListedBatchIds(alice), id));
  Reply events = alice.Get("/v1/memory/batch/status/" + id + "/events");
  EXPECT_EQ(events.status, 200) << events.Describe();
  ExpectNoSecret(events, "SSE events");
  if (cloud) {
    Reply history = alice.Get("/v1/admin/workflows/" + id + "/history?limit=1000");
    EXPECT_EQ(history.status, 200) << history.Describe();
    ExpectNoSecret(history, "workflow history (owner)");
  }
  for (const char* path : {"/v1/usage", "/metrics"}) {
    Reply r = alice.Get(path);
    ExpectNoSecret(r, path);
  }
  for (const auto& d : receiver_->Requests()) {
    EXPECT_EQ(d.body.find(kSecretB64), std::string::npos) << "webhook payload has the secret";
  }

  // Bob sees none of it.
  EXPECT_TRUE(IsErrorEnvelope(bob.Get("/v1/memory/batch/status/" + id), 404)) << "status";
  EXPECT_TRUE(IsErrorEnvelope(bob.Get("/v1/memory/batch/" + id + "/results"), 404)) << "results";
  Reply bob_events = bob.Get("/v1/memory/batch/status/" + id + "/events");
  EXPECT_TRUE(IsErrorEnvelope(bob_events, 404)) << "events";
  EXPECT_TRUE(IsErrorEnvelope(bob.Post("/v1/memory/batch/" + id + "/cancel", ""), 404)) << "cancel";
  EXPECT_TRUE(IsErrorEnvelope(bob.Get("/v1/admin/workflows/" + id + "/history"), 404))
      << "workflow history";
  EXPECT_FALSE(Contains(ListedBatchIds(bob), id)) << "alice's batch in bob's list";
  for (const auto& mid : memory_ids) {
    EXPECT_TRUE(IsErrorEnvelope(bob.Get("/v1/memory/" + mid), 404)) << mid;
  }
  EXPECT_EQ(Hits(bob, "isobeta0x isobeta3x rivers"), 0);
  EXPECT_EQ(Hits(alice, "isobeta3x"), 2) << "alice: the keyed batch and the ?wait= batch";

  // Bob's submit with alice's Idempotency-Key and the same body: his own new batch.
  Reply bob_batch = bob.Post("/v1/memory/batch", body, key);
  ASSERT_EQ(bob_batch.status, 202) << bob_batch.Describe();
  const std::string bob_id = Str(bob_batch.Json()["batch_id"]);
  EXPECT_NE(bob_id, id) << "the same Idempotency-Key from another user answered alice's batch";
  Reply bob_status = bob.Get("/v1/memory/batch/status/" + bob_id);
  EXPECT_EQ(bob_status.status, 200) << bob_status.Describe();
  EXPECT_TRUE(IsErrorEnvelope(alice.Get("/v1/memory/batch/status/" + bob_id), 404));
  EXPECT_FALSE(Contains(ListedBatchIds(alice), bob_id));
  EXPECT_TRUE(Contains(ListedBatchIds(bob), bob_id));
  // Alice's batch is untouched by bob's cancel attempt.
  EXPECT_EQ(Str(alice.Get("/v1/memory/batch/status/" + id).Json()["status"]), "completed");
}

void IsolationIntegrationTest::WrongKeysAre401() {
  const std::string alice_key = kAliceKey;
  std::string last_changed = alice_key, first_changed = alice_key, case_changed = alice_key;
  last_changed.back() = last_changed.back() == '0' ? '1' : '0';
  first_changed[0] = 'x';
  size_t letter = case_changed.find_first_of("abcdef", 3);
  case_changed[letter] = static_cast<char>(std::toupper(static_cast<unsigned char>(case_changed[letter])));
  ASSERT_NE(case_changed, alice_key);
  for (const std::string& wrong :
       {last_changed, first_changed, case_changed, std::string(alice_key.size(), 'k'),
        alice_key + "0", alice_key.substr(0, alice_key.size() - 1)}) {
    ASSERT_TRUE(wrong.size() + 1 >= alice_key.size());
    ApiClient api(server_->port(), wrong);
    EXPECT_TRUE(IsErrorEnvelope(api.Get("/v1/memory/batch"), 401)) << "X-API-Key " << wrong;
    api.set_bearer(true);
    EXPECT_TRUE(IsErrorEnvelope(api.Post("/v1/memory", R"({"content":"x"})"), 401))
        << "Bearer " << wrong;
  }
  ApiClient bearer(server_->port(), kAliceKey);
  bearer.set_bearer(true);
  EXPECT_EQ(bearer.Get("/v1/memory/batch").status, 200);
  EXPECT_TRUE(IsErrorEnvelope(ApiClient(server_->port(), "").Get("/v1/memory/batch"), 401));
}

// Runs everything, then checks the logs for keys and the secret.
void ExpectCleanLogs(const ServerProcess& server) {
  const std::string log = server.StderrText();
  EXPECT_FALSE(log.empty()) << "no log lines at all (logging.level debug)";
  for (const char* s : {kAliceKey, kBobKey, kSecret, kSecretB64, kSecretRaw}) {
    EXPECT_EQ(log.find(s), std::string::npos) << "the log contains '" << s << "'";
  }
  // Wrong keys presented by clients are not logged either.
  std::string wrong = kAliceKey;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  EXPECT_EQ(log.find(wrong), std::string::npos) << "the log contains a presented wrong key";
  EXPECT_EQ(log.find(std::string(kAliceKey).substr(3)), std::string::npos)
      << "the log contains most of alice's key";
}

TEST_F(IsolationIntegrationTest, MemoriesOfAnotherUserAreInvisibleOss) {
  SKIP_UNLESS_STARTED(false);
  MemoriesAreIsolated();
}
TEST_F(IsolationIntegrationTest, MemoriesOfAnotherUserAreInvisibleCloud) {
  SKIP_UNLESS_STARTED(true);
  MemoriesAreIsolated();
}
TEST_F(IsolationIntegrationTest, EndUsersOfOneKeyAreIsolatedInSearchOss) {
  SKIP_UNLESS_STARTED(false);
  EndUsersAreIsolatedInSearch();
}
TEST_F(IsolationIntegrationTest, EndUsersOfOneKeyAreIsolatedInSearchCloud) {
  SKIP_UNLESS_STARTED(true);
  EndUsersAreIsolatedInSearch();
}
TEST_F(IsolationIntegrationTest, BatchesOfAnotherUserAreInvisibleAndSecretNeverReturnedOss) {
  SKIP_UNLESS_STARTED(false);
  BatchesAreIsolated(false);
}
TEST_F(IsolationIntegrationTest, BatchesOfAnotherUserAreInvisibleAndSecretNeverReturnedCloud) {
  SKIP_UNLESS_STARTED(true);
  BatchesAreIsolated(true);
}
TEST_F(IsolationIntegrationTest, WrongKeyOfTheSameLengthIs401Oss) {
  SKIP_UNLESS_STARTED(false);
  WrongKeysAre401();
}
TEST_F(IsolationIntegrationTest, WrongKeyOfTheSameLengthIs401Cloud) {
  SKIP_UNLESS_STARTED(true);
  WrongKeysAre401();
}
TEST_F(IsolationIntegrationTest, KeysAndWebhookSecretNeverInLogsOss) {
  SKIP_UNLESS_STARTED(false);
  MemoriesAreIsolated();
  BatchesAreIsolated(false);
  WrongKeysAre401();
  // A graceful stop logs too.
  EXPECT_EQ(server_->Terminate(), 0);
  ExpectCleanLogs(*server_);
}
TEST_F(IsolationIntegrationTest, KeysAndWebhookSecretNeverInLogsCloud) {
  SKIP_UNLESS_STARTED(true);
  MemoriesAreIsolated();
  BatchesAreIsolated(true);
  WrongKeysAre401();
  // Restart (recovery logs) and stop.
  ASSERT_TRUE(server_->Restart());
  EXPECT_EQ(server_->Terminate(), 0);
  ExpectCleanLogs(*server_);
}

}  // namespace
}  // namespace papr::integration
