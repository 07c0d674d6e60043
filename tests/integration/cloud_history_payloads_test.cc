// GET /v1/admin/workflows/{id}/history against the real cloud-edition binary: the events of a
// completed batch with a webhook carry their payloads decoded by the batch workflow's
// formatters (batch header, memory index and result, activity options, webhook request and
// attempt, summary), every activity event names its activity (activity 0 included), and the
// webhook secret appears nowhere.

#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/integration/api_client.h"
#include "tests/integration/batch_polling.h"
#include "tests/integration/server_process.h"
#include "tools/webhook_receiver/receiver.h"

namespace papr::integration {
namespace {

using simdjson::dom::element;

constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

bool Has(element e, const char* key) { return e[key].error() == simdjson::SUCCESS; }

class HistoryPayloadsTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure() && server_) std::printf("server stderr:\n%s\n", server_->StderrText().c_str());
    server_.reset();
    if (receiver_) receiver_->Stop();
  }
  std::unique_ptr<tools::WebhookReceiver> receiver_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(HistoryPayloadsTest, CompletedBatchWithWebhookShowsDecodedFieldsAndActivityZero) {
  tools::ReceiverOptions ro;
  ro.secret = kSecret;
  receiver_ = std::make_unique<tools::WebhookReceiver>(ro);
  ASSERT_TRUE(receiver_->Start().ok());
  ServerOptions so;
  so.config_file = ConfigPath("cloud.yaml");
  so.extra_yaml = "webhooks:\n  allow_private_targets: true\n  retry_schedule_seconds: [0]\n";
  so.start_timeout_ms = 30000;
  server_ = std::make_unique<ServerProcess>(so);
  auto started = server_->Start();
  ASSERT_TRUE(started) << started.message();
  ApiClient api(server_->port(), kTestApiKey);
  const std::string hook = receiver_->Url("/hooks/history");
  std::string body = BatchBody(
      3, [](int i) { return "history memory " + std::to_string(i); },
      "\"webhook_url\":" + JsonQuote(hook) + ",\"webhook_secret\":" + JsonQuote(kSecret) +
          ",\"tolerated_failure_count\":2");
  Reply submitted = api.Call("POST", "/v1/memory/batch", body, {}, 30000);
  ASSERT_EQ(submitted.status, 202) << submitted.Describe();
  std::string id = Str(submitted.Json()["batch_id"]);
  Reply end = PollStatus(
      api, id, [](const Reply& r) { return Str(r.Json()["webhook"]["status"]) == "delivered"; },
      std::chrono::seconds(30));
  ASSERT_EQ(end.status, 200);

  Reply page = api.Get("/v1/admin/workflows/" + id + "/history?after=0&limit=1000");
  ASSERT_EQ(page.status, 200) << page.Describe();
  EXPECT_EQ(page.body.find(kSecret), std::string::npos) << "the webhook secret is in the history";
  EXPECT_EQ(page.body.find("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), std::string::npos);
  element doc = page.Json();
  simdjson::dom::array events = doc["events"].get_array().value();

  element first = events.at(0).value();
  ASSERT_EQ(Str(first["type"]), "WorkflowExecutionStarted");
  element header = first["payload"].value();
  EXPECT_EQ(Int(header["total"]), 3) << Raw(first);
  EXPECT_GT(Int(header["max_concurrency"]), 0);
  EXPECT_EQ(Int(header["tolerated_failure_count"]), 2);
  EXPECT_TRUE(IsNull(header["tolerated_failure_percentage"]));
  EXPECT_EQ(Str(header["webhook_url"]), hook);
  EXPECT_FALSE(Str(first["details"]).empty());  // kept: the attributes as one line

  // Activity 0: scheduled, started and completed, each naming activity_id 0.
  int64_t scheduled_0 = 0;
  std::map<std::string, int> activity_zero_events;
  bool webhook_scheduled = false, webhook_completed = false, closed = false;
  for (element e : events) {
    std::string type = Str(e["type"]);
    if (type.rfind("ActivityTask", 0) == 0) {
      ASSERT_TRUE(Has(e, "activity_id")) << Raw(e);
      EXPECT_TRUE(Has(e, "activity_type")) << Raw(e);
    }
    if (type == "ActivityTaskScheduled" && Str(e["activity_type"]) == "process_memory" &&
        Int(e["payload"]["memory_index"]) == 0) {
      scheduled_0 = Int(e["event_id"]);
      EXPECT_EQ(Int(e["activity_id"]), 0) << Raw(e);
      EXPECT_EQ(Int(e["options"]["retry_policy"]["maximum_attempts"]), 5) << Raw(e);
      EXPECT_GT(Int(e["options"]["start_to_close_timeout_ms"]), 0) << Raw(e);
    }
    if (type.rfind("ActivityTask", 0) == 0 && Has(e, "activity_id") && Int(e["activity_id"]) == 0) {
      activity_zero_events[type]++;
      if (type == "ActivityTaskCompleted") {
        EXPECT_GT(Int(e["payload"]["created_at_ms"]), 0) << Raw(e);
        EXPECT_FALSE(Str(e["payload"]["created_at"]).empty()) << Raw(e);
      }
    }
    if (type == "ActivityTaskScheduled" && Str(e["activity_type"]) == "deliver_webhook") {
      webhook_scheduled = true;
      EXPECT_EQ(Str(e["payload"]["url"]), hook) << Raw(e);
      EXPECT_EQ(Str(e["payload"]["webhook_id"]).rfind("msg_", 0), 0u) << Raw(e);
      EXPECT_EQ(Str(e["payload"]["body"]["data"]["batch_id"]), id) << Raw(e);
      EXPECT_EQ(Int(e["options"]["retry_policy"]["maximum_attempts"]), 1) << Raw(e);
    }
    if (type == "ActivityTaskCompleted" && Str(e["activity_type"]) == "deliver_webhook") {
      webhook_completed = true;
      EXPECT_TRUE(e["payload"]["delivered"].get_bool().value()) << Raw(e);
      EXPECT_EQ(Int(e["payload"]["status_code"]), 200) << Raw(e);
      EXPECT_TRUE(IsNull(e["payload"]["error"])) << Raw(e);
    }
    if (type == "WorkflowExecutionCompleted") {
      closed = true;
      EXPECT_EQ(Str(e["payload"]["state"]), "completed") << Raw(e);
      EXPECT_EQ(Int(e["payload"]["succeeded"]), 3) << Raw(e);
      EXPECT_EQ(Int(e["payload"]["failed"]), 0) << Raw(e);
    }
  }
  EXPECT_GT(scheduled_0, 0) << page.body.substr(0, 3000);
  EXPECT_EQ(activity_zero_events["ActivityTaskScheduled"], 1);
  EXPECT_EQ(activity_zero_events["ActivityTaskStarted"], 1);
  EXPECT_EQ(activity_zero_events["ActivityTaskCompleted"], 1);
  EXPECT_TRUE(webhook_scheduled && webhook_completed && closed) << page.body.substr(0, 3000);

  // A page that starts after the scheduling event still knows what its activities are.
  Reply later = api.Get("/v1/admin/workflows/" + id + "/history?after=" +
                        std::to_string(scheduled_0) + "&limit=1000");
  ASSERT_EQ(later.status, 200) << later.Describe();
  bool found = false;
  simdjson::dom::array later_events = later.Json()["events"].get_array().value();
  for (element e : later_events) {
    if (Str(e["type"]) == "ActivityTaskCompleted" && Int(e["activity_id"]) == 0) {
      found = true;
      EXPECT_EQ(Str(e["activity_type"]), "process_memory") << Raw(e);
      EXPECT_GT(Int(e["payload"]["created_at_ms"]), 0) << Raw(e);
    }
  }
  EXPECT_TRUE(found) << later.body.substr(0, 3000);
}

}  // namespace
}  // namespace papr::integration
