// Plans per API key (config/plans.h): two keys on different plans of one cloud server get
// their own plan's batch and document limits, 413s that name their plan and the next one
// up, their plan in /v1/usage, and their plan's webhook retry schedule.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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

const char* kPlansYaml = R"(
plans:
  - {name: starter, max_batch_size: 5, max_document_bytes: 2000, webhook_retry_schedule_seconds: [0]}
  - {name: business, max_batch_size: 20}
auth:
  default_plan: business
  api_keys:
    - {key: key-of-ann-starter, user_id: ann, plan: starter}
    - {key: key-of-bob-business, user_id: bob, plan: business}
webhooks:
  allow_private_targets: true
  retry_schedule_seconds: [0, 30]
  timeout_seconds: 2
)";

// A loopback port nothing listens on (bound, then closed): deliveries to it are refused.
int ClosedLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string Batch(int n, const std::string& extra = "") {
  std::string body = "{\"memories\":[";
  for (int i = 0; i < n; ++i) body += std::string(i ? "," : "") + "{\"content\":\"zqplan " + std::to_string(i) + "\"}";
  return body + "]" + extra + "}";
}

class PlansTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PAPR_WITH_ENGINE) GTEST_SKIP() << "cloud edition needs the engine";
    ServerOptions o;
    o.config_file = ConfigPath("cloud.yaml");
    o.extra_yaml = kPlansYaml;
    server_ = std::make_unique<ServerProcess>(o);
    ASSERT_TRUE(server_->Start());
  }
  void TearDown() override {
    if (HasFailure() && server_) std::printf("server stderr:\n%s\n", server_->StderrText().c_str());
  }
  ApiClient Ann() const { return ApiClient(server_->port(), "key-of-ann-starter"); }
  ApiClient Bob() const { return ApiClient(server_->port(), "key-of-bob-business"); }

  std::unique_ptr<ServerProcess> server_;
};

TEST_F(PlansTest, EachKeysBatchLimitIsItsPlansAndThe413NamesThePlanAndTheNextOneUp) {
  Reply ann = Ann().Post("/v1/memory/batch", Batch(6));
  ASSERT_EQ(ann.status, 413) << ann.Describe();
  auto d = ann.Json()["details"];
  EXPECT_EQ(d["max_batch_size"].get_int64().value(), 5);
  EXPECT_EQ(Str(d["plan"]), "starter");
  EXPECT_EQ(Str(d["next_plan"]), "business");
  EXPECT_NE(Str(d["upgrade_info"]).find("plan business takes up to 20"), std::string::npos)
      << ann.body;
  EXPECT_EQ(Bob().Post("/v1/memory/batch", Batch(6)).status, 202);
  Reply top = Bob().Post("/v1/memory/batch", Batch(21));
  ASSERT_EQ(top.status, 413) << top.Describe();
  EXPECT_TRUE(top.Json()["details"]["next_plan"].is_null()) << top.body;
  EXPECT_NE(Str(top.Json()["details"]["upgrade_info"]).find("largest"), std::string::npos);
  // The server's own key (PAPR_API_KEY, no plan of its own) is on auth.default_plan.
  Reply own = ApiClient(server_->port(), kTestApiKey).Post("/v1/memory/batch", Batch(6));
  EXPECT_EQ(own.status, 202) << own.Describe();
}

TEST_F(PlansTest, UsageReportsTheCallersPlan) {
  ASSERT_EQ(Ann().Post("/v1/memory/batch", Batch(6)).status, 413);
  Reply ann = Ann().Get("/v1/usage");
  ASSERT_EQ(ann.status, 200) << ann.Describe();
  EXPECT_EQ(Str(ann.Json()["limits"]["plan"]), "starter");
  EXPECT_EQ(Str(ann.Json()["limits"]["next_plan"]), "business");
  EXPECT_EQ(ann.Json()["limits"]["max_batch_size"].get_int64().value(), 5);
  EXPECT_EQ(ann.Json()["limits"]["max_document_bytes"].get_int64().value(), 2000);
  EXPECT_EQ(ann.Json()["limits"]["webhook_attempts"].get_int64().value(), 1);
  EXPECT_TRUE(ann.Json()["exceeds_limits"].get_bool().value());
  Reply bob = Bob().Get("/v1/usage");
  EXPECT_EQ(Str(bob.Json()["limits"]["plan"]), "business");
  EXPECT_EQ(bob.Json()["limits"]["max_batch_size"].get_int64().value(), 20);
  EXPECT_EQ(bob.Json()["limits"]["webhook_attempts"].get_int64().value(), 2);
  EXPECT_FALSE(bob.Json()["exceeds_limits"].get_bool().value());
}

TEST_F(PlansTest, EachKeysDocumentLimitIsItsPlans) {
  const std::string boundary = "----plans";
  const std::string body = "--" + boundary +
                           "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
                           "Content-Type: text/plain\r\n\r\n" + std::string(3000, 'a') + "\r\n--" +
                           boundary + "--\r\n";
  const Headers form = {{"Content-Type", "multipart/form-data; boundary=" + boundary}};
  Reply ann = Ann().Post("/v1/document", body, form);
  ASSERT_EQ(ann.status, 413) << ann.Describe();
  EXPECT_EQ(Str(ann.Json()["details"]["plan"]), "starter");
  EXPECT_NE(ann.body.find("plan starter"), std::string::npos) << ann.body;
  EXPECT_EQ(Bob().Post("/v1/document", body, form).status, 202);
}

TEST_F(PlansTest, EachKeysWebhookFollowsItsPlansRetrySchedule) {
  const std::string hook = ",\"webhook_url\":\"http://127.0.0.1:" +
                           std::to_string(ClosedLoopbackPort()) + "/hook\"";
  const std::string ann_id = SubmitBatch(Ann(), Batch(2, hook));
  const std::string bob_id = SubmitBatch(Bob(), Batch(2, hook));
  ASSERT_FALSE(ann_id.empty());
  ASSERT_FALSE(bob_id.empty());
  // Starter: one attempt, then the webhook has failed. Business: the server's schedule, whose
  // second attempt is 30 s away: still pending after its first.
  std::string ann_state, bob_state;
  int64_t bob_attempts = 0;
  for (int i = 0; i < 200 && (ann_state != "failed" || bob_attempts < 1); ++i) {
    std::this_thread::sleep_for(50ms);
    Reply a = Ann().Get("/v1/memory/batch/status/" + ann_id);
    Reply b = Bob().Get("/v1/memory/batch/status/" + bob_id);
    if (a.status == 200) ann_state = Str(a.Json()["webhook"]["status"]);
    if (b.status == 200) {
      bob_state = Str(b.Json()["webhook"]["status"]);
      bob_attempts = b.Json()["webhook"]["attempts"].get_int64().value();
    }
  }
  EXPECT_EQ(ann_state, "failed");
  Reply a = Ann().Get("/v1/memory/batch/status/" + ann_id);
  EXPECT_EQ(a.Json()["webhook"]["attempts"].get_int64().value(), 1) << a.body;
  EXPECT_EQ(bob_attempts, 1);
  EXPECT_EQ(bob_state, "pending");
}

}  // namespace
}  // namespace papr::integration
