// The webhook receiver (tools/webhook_receiver) against the Standard Webhooks test vector,
// the server's own signer, and over HTTP with a fake clock.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "net/http_client.h"
#include "tools/webhook_receiver/receiver.h"
#include "workflows/webhook_sender.h"

namespace papr::tools {
namespace {

// https://github.com/standard-webhooks/standard-webhooks (the libraries' shared test vector).
constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr const char* kId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kTimestamp = 1614265330;
constexpr const char* kBody = "{\"test\": 2432232314}";
constexpr const char* kSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

std::string Key() {
  auto key = WebhookKeyFromSecret(kSecret);
  EXPECT_TRUE(key.ok());
  return key.ok() ? *key : "";
}

Status Verify(std::string_view signature, std::string_view body = kBody, int64_t now = kTimestamp,
              std::string_view id = kId, std::string_view ts = "1614265330",
              int64_t tolerance = 300) {
  return VerifyWebhook(Key(), id, ts, signature, body, now, tolerance);
}

TEST(WebhookReceiverTest, SecretKeyDecoding) {
  auto key = WebhookKeyFromSecret(kSecret);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->size(), 24u);
  auto raw = WebhookKeyFromSecret("plain-secret");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(*raw, "plain-secret");
  auto bad = WebhookKeyFromSecret("whsec_not*base64!");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(WebhookReceiverTest, AcceptsTheStandardWebhooksTestVector) {
  EXPECT_TRUE(Verify(kSignature).ok()) << Verify(kSignature).ToString();
  // Any matching v1 entry of the list counts; other versions are ignored.
  std::string list = std::string("v1a,abcd v1,Zm9vYmFy ") + kSignature;
  EXPECT_TRUE(Verify(list).ok()) << Verify(list).ToString();
  // The tolerance check disabled: any "now" is fine.
  EXPECT_TRUE(Verify(kSignature, kBody, /*now=*/2000000000, kId, "1614265330", -1).ok());
}

TEST(WebhookReceiverTest, RefusesTamperedMessagesAndBadSignatures) {
  EXPECT_EQ(Verify(kSignature, "{\"test\": 2432232315}").code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Verify(kSignature, kBody, kTimestamp, "msg_other").code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(Verify(kSignature, kBody, kTimestamp + 1, kId, "1614265331").code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(Verify("").code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Verify("v1,").code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Verify("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=").code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(Verify("v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=").code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(Verify("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE").code(),
            StatusCode::kUnauthenticated);
  auto other_key =
      VerifyWebhook("another key", kId, "1614265330", kSignature, kBody, kTimestamp, 300);
  EXPECT_EQ(other_key.code(), StatusCode::kUnauthenticated);
}

TEST(WebhookReceiverTest, TimestampToleranceAndFormat) {
  EXPECT_TRUE(Verify(kSignature, kBody, kTimestamp + 300).ok());
  EXPECT_TRUE(Verify(kSignature, kBody, kTimestamp - 300).ok());
  EXPECT_EQ(Verify(kSignature, kBody, kTimestamp + 301).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Verify(kSignature, kBody, kTimestamp - 301).code(), StatusCode::kUnauthenticated);
  for (const char* ts : {"", "abc", "1614265330.5", " 1614265330", "1614265330x"}) {
    EXPECT_EQ(Verify(kSignature, kBody, kTimestamp, kId, ts).code(), StatusCode::kInvalidArgument)
        << "'" << ts << "'";
  }
  EXPECT_EQ(Verify(kSignature, kBody, kTimestamp, "").code(), StatusCode::kInvalidArgument);
}

TEST(WebhookReceiverTest, NoKeyAcceptsUnsignedMessages) {
  EXPECT_TRUE(VerifyWebhook("", kId, "1614265330", "", kBody, kTimestamp, 300).ok());
  EXPECT_EQ(VerifyWebhook("", kId, "1614265330", "", kBody, kTimestamp + 1000, 300).code(),
            StatusCode::kUnauthenticated);
}

TEST(WebhookReceiverTest, VerifiesTheServersSignatures) {
  const std::string body = "{\"type\":\"batch.completed\",\"data\":{\"batch_id\":\"b1\"}}";
  for (const char* secret : {kSecret, "raw secret bytes"}) {
    auto sig = workflows::WebhookSender::Sign(secret, "msg_abc", 1700000000, body);
    ASSERT_TRUE(sig.ok()) << sig.status().ToString();
    auto key = WebhookKeyFromSecret(secret);
    ASSERT_TRUE(key.ok());
    EXPECT_TRUE(VerifyWebhook(*key, "msg_abc", "1700000000", *sig, body, 1700000000, 300).ok())
        << secret;
  }
  // And the server reproduces the test vector.
  auto sig = workflows::WebhookSender::Sign(kSecret, kId, kTimestamp, kBody);
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(*sig, kSignature);
}

// ---------------------------------------------------------------------------------------------
// Over HTTP.

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t millis) : millis_(millis) {}
  int64_t NowMillis() const override { return millis_; }
  void Set(int64_t millis) { millis_ = millis; }

 private:
  std::atomic<int64_t> millis_;
};

net::HttpClientResponse Post(const WebhookReceiver& receiver, const std::string& id,
                             const std::string& ts, const std::string& signature,
                             const std::string& body = kBody, int timeout_ms = 5000) {
  net::HttpClientRequest req;
  req.url = receiver.Url();
  req.body = body;
  req.timeout_ms = timeout_ms;
  req.headers = {
      {"content-type", "application/json"}, {"webhook-id", id}, {"webhook-timestamp", ts}};
  if (!signature.empty()) req.headers.emplace_back("webhook-signature", signature);
  auto resp = net::HttpCall(req);
  EXPECT_TRUE(resp.ok()) << resp.status().ToString();
  return resp.ok() ? *resp : net::HttpClientResponse{};
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string TempPath(const std::string& name) {
  return testing::TempDir() + "/" + name + "_" + std::to_string(getpid()) + ".jsonl";
}

TEST(WebhookReceiverTest, VerifiesDedupesAndAppendsOverHttp) {
  FakeClock clock(kTimestamp * 1000 + 10'000);
  ReceiverOptions options;
  options.secret = kSecret;
  options.out_path = TempPath("receiver_dedupe");
  std::remove(options.out_path.c_str());
  WebhookReceiver receiver(options, &clock);
  ASSERT_TRUE(receiver.Start().ok());

  EXPECT_EQ(Post(receiver, kId, "1614265330", kSignature).status, 200);
  EXPECT_EQ(Post(receiver, kId, "1614265330", kSignature).status, 200);  // duplicate
  EXPECT_EQ(Post(receiver, kId, "1614265330", "v1,Zm9vYmFy").status, 401);
  EXPECT_EQ(Post(receiver, kId, "1614265330", "").status, 401);
  EXPECT_EQ(Post(receiver, "msg_x", "1614265330", kSignature).status, 401);
  EXPECT_EQ(Post(receiver, kId, "1614265330", kSignature, "{\"test\": 1}").status, 401);
  EXPECT_EQ(Post(receiver, "", "1614265330", kSignature).status, 400);
  clock.Set((kTimestamp + 400) * 1000);
  EXPECT_EQ(Post(receiver, kId, "1614265330", kSignature).status, 401);  // stale

  auto requests = receiver.Requests();
  ASSERT_EQ(requests.size(), 8u);
  EXPECT_TRUE(requests[0].verified);
  EXPECT_TRUE(requests[1].duplicate);
  EXPECT_EQ(requests[0].content_type, "application/json");
  EXPECT_EQ(receiver.Deliveries().size(), 1u);
  receiver.Stop();

  auto lines = Lines(options.out_path);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            std::string("{\"webhook_id\":\"msg_p5jXN8AQM9LWM0D4loKWxJek\",\"timestamp\":"
                        "1614265330,\"received_at\":\"2021-02-25T15:02:20.000Z\",\"body\":") +
                kBody + "}");
  std::remove(options.out_path.c_str());
}

TEST(WebhookReceiverTest, FailFirstThenAccepts) {
  FakeClock clock(kTimestamp * 1000);
  ReceiverOptions options;
  options.secret = kSecret;
  options.fail_first = 2;
  options.fail_status = 503;
  options.fail_retry_after_seconds = 7;
  WebhookReceiver receiver(options, &clock);
  ASSERT_TRUE(receiver.Start().ok());
  auto first = Post(receiver, kId, "1614265330", kSignature);
  EXPECT_EQ(first.status, 503);
  EXPECT_EQ(first.Header("retry-after"), "7");
  // A refused (unsigned) request does not use up a failure.
  EXPECT_EQ(Post(receiver, kId, "1614265330", "").status, 401);
  EXPECT_EQ(Post(receiver, kId, "1614265330", kSignature).status, 503);
  EXPECT_EQ(Post(receiver, kId, "1614265330", kSignature).status, 200);
  EXPECT_EQ(Post(receiver, kId, "1614265330", kSignature).status, 200);
  EXPECT_EQ(receiver.Requests().size(), 5u);
  EXPECT_EQ(receiver.Deliveries().size(), 1u);
}

TEST(WebhookReceiverTest, HangFirstHoldsTheAnswer) {
  FakeClock clock(kTimestamp * 1000);
  ReceiverOptions options;
  options.hang_first = 1;
  options.hang_ms = 60'000;
  WebhookReceiver receiver(options, &clock);
  ASSERT_TRUE(receiver.Start().ok());
  net::HttpClientRequest req;
  req.url = receiver.Url();
  req.body = kBody;
  req.timeout_ms = 300;
  req.headers = {{"webhook-id", "msg_1"}, {"webhook-timestamp", "1614265330"}};
  auto start = std::chrono::steady_clock::now();
  auto hung = net::HttpCall(req);
  ASSERT_FALSE(hung.ok());
  EXPECT_EQ(hung.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  req.timeout_ms = 5000;
  auto second = net::HttpCall(req);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->status, 200);
  auto requests = receiver.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_TRUE(requests[0].hung);
  EXPECT_EQ(requests[0].status, 0);  // still held
  EXPECT_FALSE(requests[1].has_signature);
  // Stop answers the held request at once instead of waiting for hang_ms.
  start = std::chrono::steady_clock::now();
  receiver.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(receiver.Requests()[0].status, 503);
}

TEST(WebhookReceiverTest, RefusesBadOptions) {
  ReceiverOptions bad_status;
  bad_status.fail_status = 42;
  EXPECT_FALSE(WebhookReceiver(bad_status).Start().ok());
  ReceiverOptions bad_secret;
  bad_secret.secret = "whsec_***";
  EXPECT_FALSE(WebhookReceiver(bad_secret).Start().ok());
  ReceiverOptions bad_listen;
  bad_listen.listen = "nowhere";
  EXPECT_FALSE(WebhookReceiver(bad_listen).Start().ok());
}

}  // namespace
}  // namespace papr::tools
