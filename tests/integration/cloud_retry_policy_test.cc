// The memory activity's retry policy: configured (processing.retry.*), per batch
// (`retry_policy` in the request, bounded by the config, 422 naming the field), and recorded
// in the batch so a restart with another config still retries as the batch began. Real
// server, real HTTP, a processing endpoint served from this process.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/integration/api_client.h"
#include "tests/integration/batch_polling.h"
#include "tests/integration/server_process.h"
#include "tests/integration/test_endpoint.h"

namespace papr::integration {
namespace {

using namespace std::chrono_literals;

//! A processing endpoint that fails every call with 500 (retryable), counting calls.
class FailingEndpoint {
 public:
  FailingEndpoint()
      : endpoint_([this](const net::HttpRequest&) {
          calls_++;
          return net::HttpResponse::Json(500, "{\"error\":\"injected\"}");
        }) {}
  std::string Url() const { return endpoint_.Url(); }
  int64_t calls() const { return calls_.load(); }

 private:
  std::atomic<int64_t> calls_{0};
  TestEndpoint endpoint_;  // last: stopped before calls_ goes
};

ServerOptions Cloud(const std::string& yaml) {
  ServerOptions o;
  o.config_file = ConfigPath("cloud.yaml");
  o.extra_yaml = yaml;
  o.start_timeout_ms = 30000;
  return o;
}

std::string RetryYaml(const FailingEndpoint& e, int64_t attempts, int64_t initial_ms) {
  return "processing:\n  endpoint: " + e.Url() +
         "\n  timeout_ms: 2000\n  retry:\n    initial_interval_ms: " + std::to_string(initial_ms) +
         "\n    maximum_attempts: " + std::to_string(attempts) + "\n";
}

std::string Content(int i) { return "retry policy memory " + std::to_string(i); }

std::string Submit(const ApiClient& api, const std::string& body) {
  Reply r = api.Call("POST", "/v1/memory/batch", body, {}, 60000);
  EXPECT_EQ(r.status, 202) << r.Describe();
  return r.status == 202 ? Str(r.Json()["batch_id"]) : "";
}

// The batch's final status, once it ended.
simdjson::dom::element Ended(const ApiClient& api, const std::string& id, Reply* holder) {
  *holder = WaitForEnd(api, id, std::chrono::seconds(60));
  EXPECT_EQ(holder->status, 200) << holder->Describe();
  return holder->Json();
}

TEST(CloudRetryPolicyTest, RetryPolicyOutsideItsBoundsIs422NamingTheField) {
  FailingEndpoint endpoint;
  ServerProcess server(Cloud(RetryYaml(endpoint, 3, 1)));
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  const std::pair<std::string, std::string> cases[] = {
      {"\"retry_policy\":{\"maximum_attempts\":4}", "retry_policy.maximum_attempts"},
      {"\"retry_policy\":{\"maximum_attempts\":0}", "retry_policy.maximum_attempts"},
      {"\"retry_policy\":{\"backoff_coefficient\":0.5}", "retry_policy.backoff_coefficient"},
      {"\"retry_policy\":{\"initial_interval_ms\":-1}", "retry_policy.initial_interval_ms"},
      {"\"retry_policy\":{\"maximum_interval_ms\":\"soon\"}", "retry_policy.maximum_interval_ms"},
      {"\"retry_policy\":{\"non_retryable_error_types\":[7]}",
       "retry_policy.non_retryable_error_types"},
      {"\"retry_policy\":[]", "retry_policy"},
  };
  for (const auto& [extra, field] : cases) {
    Reply r = api.Post("/v1/memory/batch", BatchBody(2, Content, extra));
    EXPECT_EQ(r.status, 422) << extra << ": " << r.Describe();
    if (r.status != 422) continue;
    EXPECT_EQ(Str(r.Json()["details"]["field"]), field) << r.body;
  }
  EXPECT_EQ(endpoint.calls(), 0);
  // Within the bounds: accepted.
  EXPECT_FALSE(Submit(api, BatchBody(1, Content, "\"retry_policy\":{\"maximum_attempts\":3,"
                                                 "\"backoff_coefficient\":1.5}"))
                   .empty());
}

TEST(CloudRetryPolicyTest, ConfiguredAndPerBatchPoliciesDecideTheAttempts) {
  FailingEndpoint endpoint;
  ServerProcess server(Cloud(RetryYaml(endpoint, 3, 1)));
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  Reply holder;
  // The configured policy: 3 attempts per memory.
  std::string a = Submit(api, BatchBody(2, Content));
  ASSERT_FALSE(a.empty());
  simdjson::dom::element st = Ended(api, a, &holder);
  EXPECT_EQ(Str(st["status"]), "failed") << holder.body;
  EXPECT_EQ(endpoint.calls(), 6);
  EXPECT_EQ(Int(st["retries"]), 4) << holder.body;
  // The batch's own policy: one attempt, no retry.
  std::string b = Submit(api, BatchBody(2, Content, "\"retry_policy\":{\"maximum_attempts\":1}"));
  ASSERT_FALSE(b.empty());
  st = Ended(api, b, &holder);
  EXPECT_EQ(endpoint.calls(), 8);
  EXPECT_EQ(Int(st["retries"]), 0) << holder.body;
  // The endpoint's failure (error code 502) listed as non-retryable: one attempt too.
  std::string c = Submit(api, BatchBody(
      1, Content, "\"retry_policy\":{\"non_retryable_error_types\":[\"502\"]}"));
  ASSERT_FALSE(c.empty());
  Ended(api, c, &holder);
  EXPECT_EQ(endpoint.calls(), 9);
  EXPECT_TRUE(IsNull(holder.Json()["resume_error"])) << holder.body;
}

TEST(CloudRetryPolicyTest, ARestartedBatchRetriesWithItsRecordedPolicyNotTheNewConfig) {
  FailingEndpoint endpoint;
  auto first = std::make_unique<ServerProcess>(Cloud(RetryYaml(endpoint, 3, 1500)));
  ASSERT_TRUE(first->Start());
  std::string id;
  {
    ApiClient api(first->port(), kTestApiKey);
    id = Submit(api, BatchBody(1, Content));
    ASSERT_FALSE(id.empty());
    for (auto deadline = std::chrono::steady_clock::now() + 20s;
         endpoint.calls() < 1 && std::chrono::steady_clock::now() < deadline;) {
      std::this_thread::sleep_for(10ms);
    }
    ASSERT_EQ(endpoint.calls(), 1);  // first attempt failed; the retry waits 1.5 s
    // Kill only once that failure is durable (retries: 1): an attempt whose outcome was not
    // committed runs again after the restart (at least once), which would be a 4th call.
    Reply recorded = PollStatus(
        api, id, [](const Reply& r) { return Int(r.Json()["retries"]) >= 1; }, 20s);
    ASSERT_EQ(recorded.status, 200);
    ASSERT_EQ(endpoint.calls(), 1);
  }
  first->Kill9();
  // The new config allows one attempt only; the batch recorded three.
  auto second = SuccessorOf(*first, Cloud(RetryYaml(endpoint, 1, 1)));
  ASSERT_TRUE(second->Start());
  ApiClient api(second->port(), kTestApiKey);
  Reply holder;
  simdjson::dom::element st = Ended(api, id, &holder);
  EXPECT_EQ(Str(st["status"]), "failed") << holder.body;
  EXPECT_EQ(endpoint.calls(), 3) << "the batch must keep the 3 attempts it was accepted with";
  EXPECT_TRUE(IsNull(st["resume_error"])) << holder.body;
}

}  // namespace
}  // namespace papr::integration
