// Batch-completion webhooks (Standard Webhooks v1, /work/shared/API.md "Webhooks") from the
// real papr-server to the webhook receiver of tools/webhook_receiver, run in this process:
// payload, headers and signature; retries with the same webhook-id on the cloud edition's
// durable schedule, across a kill -9; 410; a hanging receiver; Retry-After; the SSRF refusal
// of loopback targets; the open-source edition's single attempt; unsigned delivery.

#include <algorithm>
#include <chrono>
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
#include "tools/webhook_receiver/receiver.h"

namespace papr::integration {
namespace {

using SteadyClock = std::chrono::steady_clock;
using simdjson::dom::element;
using tools::ReceivedRequest;
using tools::ReceiverOptions;
using tools::WebhookReceiver;

constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr auto kWebhookDeadline = std::chrono::seconds(20);
// Status polls here keep going through error answers (a server being restarted).
constexpr PollOptions kWebhookPolling{.retry_errors = true};

#define SKIP_WITHOUT_ENGINE()                                                          \
  do {                                                                                 \
    if (!PAPR_WITH_ENGINE) GTEST_SKIP() << "the cloud edition needs the engine build"; \
  } while (0)

// webhooks: section for the shipped configs: loopback targets allowed (the receiver is on
// 127.0.0.1) and a fast retry schedule.
std::string WebhooksYaml(const std::string& schedule = "[0, 1, 1, 1]", int timeout_seconds = 5,
                         bool allow_private = true) {
  return std::string("webhooks:\n  allow_private_targets: ") + (allow_private ? "true" : "false") +
         "\n  retry_schedule_seconds: " + schedule +
         "\n  timeout_seconds: " + std::to_string(timeout_seconds) + "\n";
}

ServerOptions EditionOptions(const std::string& config, const std::string& extra_yaml) {
  ServerOptions o;
  o.config_file = ConfigPath(config);
  o.extra_yaml = extra_yaml;
  o.start_timeout_ms = 30000;
  return o;
}

ServerOptions CloudOptions(const std::string& extra_yaml = WebhooksYaml()) {
  return EditionOptions("cloud.yaml", extra_yaml);
}

ServerOptions OssOptions(const std::string& extra_yaml = WebhooksYaml()) {
  return EditionOptions("opensource.yaml", extra_yaml);
}

// The configs this build can run: the OSS edition always, the cloud edition with the engine.
std::vector<std::string> Editions() {
  std::vector<std::string> out = {"opensource.yaml"};
  if (PAPR_WITH_ENGINE) out.push_back("cloud.yaml");
  return out;
}

std::string BatchBody(int n, const std::string& url, const std::string& secret) {
  std::string body = "{\"memories\":[";
  for (int i = 0; i < n; ++i) {
    if (i > 0) body += ",";
    body += "{\"content\":" +
            JsonQuote("Webhook test memory number " + std::to_string(i) +
                      " about gardens and rivers.") +
            "}";
  }
  body += "],\"webhook_url\":" + JsonQuote(url);
  if (!secret.empty()) body += ",\"webhook_secret\":" + JsonQuote(secret);
  return body + "}";
}

// POST /v1/memory/batch expecting 202; returns the batch id ("" after a test failure).
std::string SubmitBatch(const ApiClient& api, int n, const std::string& url,
                        const std::string& secret = kSecret) {
  Reply r = api.Call("POST", "/v1/memory/batch", BatchBody(n, url, secret), {}, 30000);
  EXPECT_EQ(r.status, 202) << r.Describe();
  if (r.status != 202) return "";
  return Str(r.Json()["batch_id"]);
}

std::string WebhookState(const Reply& r) { return Str(r.Json()["webhook"]["status"]); }

// Waits until the webhook is delivered or failed (polling through error answers).
Reply WaitForWebhookEnd(const ApiClient& api, const std::string& batch_id,
                        std::chrono::seconds timeout = kWebhookDeadline) {
  return PollStatus(
      api, batch_id,
      [](const Reply& r) {
        std::string s = WebhookState(r);
        return s == "delivered" || s == "failed";
      },
      timeout, kWebhookPolling);
}

size_t DeliveriesInStatus(const Reply& r) {
  return r.Json()["webhook"]["deliveries"].get_array().value().size();
}

// Every request the receiver got must carry the same webhook-id and the same body, and (with a
// secret) a valid signature. Returns that id.
std::string ExpectSameMessage(const std::vector<ReceivedRequest>& requests, bool signed_) {
  if (requests.empty()) return "";
  for (const auto& r : requests) {
    EXPECT_EQ(r.webhook_id, requests[0].webhook_id) << "a retry changed the webhook-id";
    EXPECT_EQ(r.body, requests[0].body) << "a retry changed the payload";
    EXPECT_TRUE(r.verified) << "refused with " << r.status << ": " << r.error;
    EXPECT_EQ(r.has_signature, signed_);
    if (signed_) {
      EXPECT_EQ(r.signature.rfind("v1,", 0), 0u) << r.signature;
    }
  }
  return requests[0].webhook_id;
}

ReceiverOptions Receiver(int fail_first = 0, int fail_status = 500,
                         const std::string& secret = kSecret) {
  ReceiverOptions o;
  o.secret = secret;
  o.fail_first = fail_first;
  o.fail_status = fail_status;
  return o;
}

class WebhookIntegrationTest : public ::testing::Test {
 protected:
  // Starts the receiver and a server; returns false (with a failure) if either cannot start.
  bool StartBoth(ReceiverOptions receiver_options, ServerOptions server_options) {
    receiver_ = std::make_unique<WebhookReceiver>(std::move(receiver_options));
    auto port = receiver_->Start();
    if (!port.ok()) {
      ADD_FAILURE() << "receiver: " << port.status().ToString();
      return false;
    }
    server_ = std::make_unique<ServerProcess>(std::move(server_options));
    auto started = server_->Start();
    if (!started) ADD_FAILURE() << started.message();
    return static_cast<bool>(started);
  }
  ApiClient Api() const { return ApiClient(server_->port(), kTestApiKey); }

  void TearDown() override {
    if (HasFailure() && server_) std::printf("server stderr:\n%s\n", server_->StderrText().c_str());
    server_.reset();
    if (receiver_) receiver_->Stop();
  }

  std::unique_ptr<WebhookReceiver> receiver_;
  std::unique_ptr<ServerProcess> server_;
};

// ---------------------------------------------------------------------------------------------

TEST_F(WebhookIntegrationTest, DeliveredWithPayloadHeadersAndSignatureAfterSuccess) {
  SKIP_WITHOUT_ENGINE();
  ASSERT_TRUE(StartBoth(Receiver(), CloudOptions()));
  ApiClient api = Api();
  const int64_t submitted_at = static_cast<int64_t>(std::time(nullptr));
  std::string id = SubmitBatch(api, 3, receiver_->Url("/hooks/batch"));
  ASSERT_FALSE(id.empty());
  Reply end = WaitForWebhookEnd(api, id);
  ASSERT_EQ(end.status, 200);

  element st = end.Json();
  EXPECT_EQ(Str(st["status"]), "completed") << end.body;
  element wh = st["webhook"].value();
  EXPECT_EQ(Str(wh["url"]), receiver_->Url("/hooks/batch"));
  EXPECT_EQ(Str(wh["status"]), "delivered") << end.body;
  EXPECT_EQ(Int(wh["attempts"]), 1) << end.body;
  EXPECT_EQ(Int(wh["last_status_code"]), 200);
  EXPECT_TRUE(IsNull(wh["last_error"])) << end.body;
  ASSERT_EQ(DeliveriesInStatus(end), 1u) << end.body;
  element d0 = wh["deliveries"].at(0).value();
  EXPECT_EQ(Int(d0["status_code"]), 200);
  EXPECT_TRUE(IsNull(d0["error"]));
  EXPECT_FALSE(Str(d0["at"]).empty());

  auto requests = receiver_->Requests();
  ASSERT_EQ(requests.size(), 1u);
  const ReceivedRequest& r = requests[0];
  EXPECT_TRUE(r.verified) << r.status << " " << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_FALSE(r.webhook_id.empty());
  EXPECT_TRUE(r.has_signature);
  EXPECT_EQ(r.signature.rfind("v1,", 0), 0u) << r.signature;
  int64_t ts = std::stoll(r.timestamp);
  EXPECT_GE(ts, submitted_at - 5);
  EXPECT_LE(ts, static_cast<int64_t>(std::time(nullptr)) + 5);
  // The receiver checked it, and so do we, with the signature the server sent.
  auto key = tools::WebhookKeyFromSecret(kSecret);
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(
      tools::VerifyWebhook(*key, r.webhook_id, r.timestamp, r.signature, r.body, ts, 0).ok());

  simdjson::dom::parser parser;
  element body = parser.parse(r.body).value();
  EXPECT_EQ(Str(body["type"]), "batch.completed");
  EXPECT_FALSE(Str(body["timestamp"]).empty());
  element data = body["data"].value();
  EXPECT_EQ(Str(data["batch_id"]), id);
  EXPECT_EQ(Str(data["status"]), "completed");
  EXPECT_EQ(Int(data["total_memories"]), 3);
  EXPECT_EQ(Int(data["successful_memories"]), 3);
  EXPECT_EQ(Int(data["failed_memories"]), 0);
  EXPECT_EQ(data["errors"].get_array().value().size(), 0u);
  EXPECT_FALSE(Str(data["completed_at"]).empty());
  EXPECT_GE(Int(data["processing_time_ms"]), 0);
  std::string status_url = Str(data["status_url"]);
  const std::string suffix = "/v1/memory/batch/status/" + id;
  ASSERT_GE(status_url.size(), suffix.size()) << status_url;
  EXPECT_EQ(status_url.substr(status_url.size() - suffix.size()), suffix);
}

TEST_F(WebhookIntegrationTest, DeliveredOnThirdAttemptAfterTwoFailuresWithSameId) {
  SKIP_WITHOUT_ENGINE();
  ASSERT_TRUE(StartBoth(Receiver(/*fail_first=*/2), CloudOptions()));
  ApiClient api = Api();
  std::string id = SubmitBatch(api, 2, receiver_->Url());
  ASSERT_FALSE(id.empty());
  Reply end = WaitForWebhookEnd(api, id);
  ASSERT_EQ(end.status, 200);
  element wh = end.Json()["webhook"].value();
  EXPECT_EQ(Str(wh["status"]), "delivered") << end.body;
  EXPECT_EQ(Int(wh["attempts"]), 3) << end.body;
  EXPECT_EQ(Int(wh["last_status_code"]), 200);
  ASSERT_EQ(DeliveriesInStatus(end), 3u) << end.body;
  for (int i = 0; i < 3; ++i) {
    element d = wh["deliveries"].at(i).value();
    EXPECT_EQ(Int(d["status_code"]), i < 2 ? 500 : 200) << end.body;
    EXPECT_EQ(IsNull(d["error"]), i == 2) << end.body;
  }

  auto requests = receiver_->Requests();
  ASSERT_EQ(requests.size(), 3u);
  ExpectSameMessage(requests, /*signed_=*/true);
  EXPECT_EQ(requests[0].status, 500);
  EXPECT_EQ(requests[1].status, 500);
  EXPECT_EQ(requests[2].status, 200);
  // webhook-timestamp is the time of each attempt (the schedule spaces them by 1 s).
  EXPECT_LT(std::stoll(requests[0].timestamp), std::stoll(requests[2].timestamp));
  EXPECT_GE(requests[1].received_at_ms - requests[0].received_at_ms, 900);
  EXPECT_EQ(receiver_->Deliveries().size(), 1u);
}

TEST_F(WebhookIntegrationTest, RetryContinuesAfterKill9BetweenAttempts) {
  SKIP_WITHOUT_ENGINE();
  ASSERT_TRUE(StartBoth(Receiver(/*fail_first=*/1), CloudOptions(WebhooksYaml("[0, 3, 3]"))));
  std::string id = SubmitBatch(Api(), 2, receiver_->Url());
  ASSERT_FALSE(id.empty());
  Reply first = PollStatus(
      Api(), id, [](const Reply& r) { return Int(r.Json()["webhook"]["attempts"]) >= 1; },
      kWebhookDeadline, kWebhookPolling);
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(WebhookState(first), "pending") << first.body;
  EXPECT_EQ(Int(first.Json()["webhook"]["last_status_code"]), 500) << first.body;
  server_->Kill9();
  ASSERT_EQ(receiver_->Requests().size(), 1u);

  ASSERT_TRUE(server_->Restart());
  Reply end = WaitForWebhookEnd(Api(), id);
  ASSERT_EQ(end.status, 200);
  element wh = end.Json()["webhook"].value();
  EXPECT_EQ(Str(wh["status"]), "delivered") << end.body;
  EXPECT_EQ(Int(wh["attempts"]), 2) << end.body;
  EXPECT_EQ(DeliveriesInStatus(end), 2u) << end.body;
  auto requests = receiver_->Requests();
  ASSERT_EQ(requests.size(), 2u);
  ExpectSameMessage(requests, /*signed_=*/true);
  // The durable timer kept its schedule: the retry came about 3 s after the first attempt.
  EXPECT_GE(requests[1].received_at_ms - requests[0].received_at_ms, 2500);
  EXPECT_EQ(receiver_->Deliveries().size(), 1u);
}

// The memories are done when the first attempt fails: the batch is `completed` (with its
// completed_at) while only its webhook waits for the retry, which may be hours away.
TEST_F(WebhookIntegrationTest, BatchIsCompletedWhileWebhookWaitsForRetry) {
  SKIP_WITHOUT_ENGINE();
  ASSERT_TRUE(StartBoth(Receiver(/*fail_first=*/1), CloudOptions(WebhooksYaml("[0, 3]"))));
  ApiClient api = Api();
  std::string id = SubmitBatch(api, 2, receiver_->Url());
  ASSERT_FALSE(id.empty());
  Reply first = PollStatus(
      api, id, [](const Reply& r) { return Int(r.Json()["webhook"]["attempts"]) >= 1; },
      kWebhookDeadline, kWebhookPolling);
  ASSERT_EQ(first.status, 200);
  ASSERT_EQ(WebhookState(first), "pending") << first.body;
  EXPECT_EQ(Str(first.Json()["status"]), "completed") << first.body;
  EXPECT_FALSE(IsNull(first.Json()["completed_at"])) << first.body;
  Reply end = WaitForWebhookEnd(api, id);
  ASSERT_EQ(end.status, 200);
  EXPECT_EQ(Str(end.Json()["status"]), "completed") << end.body;
  EXPECT_EQ(WebhookState(end), "delivered") << end.body;
}

TEST_F(WebhookIntegrationTest, GoneStopsRetries) {
  SKIP_WITHOUT_ENGINE();
  ASSERT_TRUE(StartBoth(Receiver(/*fail_first=*/5, /*fail_status=*/410), CloudOptions()));
  ApiClient api = Api();
  std::string id = SubmitBatch(api, 1, receiver_->Url());
  ASSERT_FALSE(id.empty());
  Reply end = WaitForWebhookEnd(api, id);
  ASSERT_EQ(end.status, 200);
  element wh = end.Json()["webhook"].value();
  EXPECT_EQ(Str(wh["status"]), "failed") << end.body;
  EXPECT_EQ(Int(wh["attempts"]), 1) << end.body;
  EXPECT_EQ(Int(wh["last_status_code"]), 410) << end.body;
  EXPECT_FALSE(IsNull(wh["last_error"])) << end.body;
  // The schedule would retry after 1 s: give it 2.5 s to (wrongly) do so.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(receiver_->Requests().size(), 1u);
}

TEST_F(WebhookIntegrationTest, HangingReceiverIsTimedOutAndRetried) {
  SKIP_WITHOUT_ENGINE();
  ReceiverOptions receiver = Receiver();
  receiver.hang_first = 1;
  receiver.hang_ms = 15000;
  ASSERT_TRUE(StartBoth(receiver, CloudOptions(WebhooksYaml("[0, 1, 1, 1]", 1))));
  ApiClient api = Api();
  auto t0 = SteadyClock::now();
  std::string id = SubmitBatch(api, 1, receiver_->Url());
  ASSERT_FALSE(id.empty());
  Reply end = WaitForWebhookEnd(api, id);
  ASSERT_EQ(end.status, 200);
  EXPECT_LT(SteadyClock::now() - t0, std::chrono::seconds(10)) << "the hang was not cut at 1 s";
  element wh = end.Json()["webhook"].value();
  EXPECT_EQ(Str(wh["status"]), "delivered") << end.body;
  EXPECT_EQ(Int(wh["attempts"]), 2) << end.body;
  ASSERT_EQ(DeliveriesInStatus(end), 2u) << end.body;
  element d0 = wh["deliveries"].at(0).value();
  EXPECT_EQ(Int(d0["status_code"]), 0) << end.body;
  EXPECT_FALSE(IsNull(d0["error"])) << end.body;
  auto requests = receiver_->Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_TRUE(requests[0].hung);
  ExpectSameMessage(requests, /*signed_=*/true);
}

TEST_F(WebhookIntegrationTest, RetryAfterIsHonoured) {
  SKIP_WITHOUT_ENGINE();
  ReceiverOptions receiver = Receiver(/*fail_first=*/1, /*fail_status=*/503);
  receiver.fail_retry_after_seconds = 3;
  ASSERT_TRUE(StartBoth(receiver, CloudOptions()));
  ApiClient api = Api();
  std::string id = SubmitBatch(api, 1, receiver_->Url());
  ASSERT_FALSE(id.empty());
  Reply end = WaitForWebhookEnd(api, id);
  ASSERT_EQ(end.status, 200);
  EXPECT_EQ(WebhookState(end), "delivered") << end.body;
  auto requests = receiver_->Requests();
  ASSERT_EQ(requests.size(), 2u);
  // The schedule says 1 s; Retry-After: 3 wins.
  EXPECT_GE(requests[1].received_at_ms - requests[0].received_at_ms, 2900);
}

TEST_F(WebhookIntegrationTest, PrivateTargetsRefusedByDefault) {
  receiver_ = std::make_unique<WebhookReceiver>(Receiver());
  ASSERT_TRUE(receiver_->Start().ok());
  const std::string port = std::to_string(receiver_->port());
  for (const std::string& config : Editions()) {
    SCOPED_TRACE(config);
    // The shipped configs, untouched: allow_private_targets is false.
    ServerProcess server(EditionOptions(config, ""));
    ASSERT_TRUE(server.Start());
    ApiClient api(server.port(), kTestApiKey);
    for (const std::string& url :
         {"http://127.0.0.1:" + port + "/hook", "http://localhost:" + port + "/",
          "http://[::1]:" + port + "/", "http://[::ffff:127.0.0.1]:" + port + "/",
          std::string("http://10.1.2.3/hook"), std::string("http://169.254.169.254/latest"),
          "http://2130706433:" + port + "/", "http://127.1:" + port + "/",
          std::string("https://192.168.0.10/"), std::string("http://0.0.0.0/")}) {
      Reply r = api.Call("POST", "/v1/memory/batch", BatchBody(1, url, kSecret));
      EXPECT_TRUE(IsErrorEnvelope(r, 400)) << url;
      if (r.status != 400) continue;
      EXPECT_TRUE(r.body.find("webhook_url") != std::string::npos) << url << ": " << r.body;
      EXPECT_EQ(Str(r.Json()["details"]["field"]), "webhook_url") << r.body;
    }
    Reply list = api.Get("/v1/memory/batch");
    EXPECT_EQ(list.status, 200) << list.Describe();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(receiver_->Requests().size(), 0u);
}

TEST_F(WebhookIntegrationTest, OpenSourceEditionMakesExactlyOneAttempt) {
  ASSERT_TRUE(StartBoth(Receiver(/*fail_first=*/5), OssOptions()));
  ApiClient api = Api();
  std::string id = SubmitBatch(api, 2, receiver_->Url());
  ASSERT_FALSE(id.empty());
  Reply end = WaitForWebhookEnd(api, id);
  ASSERT_EQ(end.status, 200);
  element wh = end.Json()["webhook"].value();
  EXPECT_EQ(Str(wh["status"]), "failed") << end.body;
  EXPECT_EQ(Int(wh["attempts"]), 1) << end.body;
  EXPECT_EQ(Int(wh["last_status_code"]), 500) << end.body;
  EXPECT_EQ(DeliveriesInStatus(end), 1u) << end.body;
  // The configured schedule ([0, 1, 1, 1]) is not used by this edition.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  auto requests = receiver_->Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_TRUE(requests[0].verified) << requests[0].error;
  EXPECT_EQ(requests[0].status, 500);
}

TEST_F(WebhookIntegrationTest, NoSecretMeansNoSignatureHeader) {
  for (const std::string& config : Editions()) {
    SCOPED_TRACE(config);
    ASSERT_TRUE(StartBoth(Receiver(0, 500, /*secret=*/""), EditionOptions(config, WebhooksYaml())));
    ApiClient api = Api();
    std::string id = SubmitBatch(api, 1, receiver_->Url(), /*secret=*/"");
    ASSERT_FALSE(id.empty());
    Reply end = WaitForWebhookEnd(api, id);
    ASSERT_EQ(end.status, 200);
    EXPECT_EQ(WebhookState(end), "delivered") << end.body;
    auto requests = receiver_->Requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_FALSE(requests[0].has_signature) << requests[0].signature;
    EXPECT_FALSE(requests[0].webhook_id.empty());
    EXPECT_FALSE(requests[0].timestamp.empty());
    EXPECT_EQ(requests[0].status, 200);
    server_.reset();
    receiver_->Stop();
  }
}

}  // namespace
}  // namespace papr::integration
