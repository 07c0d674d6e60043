// The admin write endpoints of papr-server (POST /v1/admin/workflows/{id}/{terminate,cancel,
// signal,retry}) against the real binary: cloud edition for the durable workflows (owner
// checks with a second user's key, the history events each action records, retry of a
// batch's failed memories as a new batch), and the OSS edition, which has none (404).
// The processing endpoint is a tiny HTTP server in this process that rejects (422) memories
// whose content says REJECT while rejecting is on.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/integration/api_client.h"
#include "tests/integration/batch_polling.h"
#include "tests/integration/server_process.h"
#include "tests/integration/test_endpoint.h"

namespace papr::integration {
namespace {

using simdjson::dom::element;

constexpr const char* kOtherKey = "it-admin-other-key-0123456789";

// ---------------------------------------------------------------------------------------------
// The processing endpoint: 422 for content with REJECT while reject() is on, else 200.

class RejectingEndpoint {
 public:
  RejectingEndpoint()
      : server_([this](const net::HttpRequest& req) {
          bool reject = reject_ && req.body.find("REJECT") != std::string::npos;
          return net::HttpResponse::Json(reject ? 422 : 200,
                                         reject ? "{\"error\":\"rejected\"}" : "{\"ok\":true}");
        }) {}
  std::string Yaml() const { return server_.ProcessingYaml(); }
  void set_reject(bool on) { reject_ = on; }

 private:
  std::atomic<bool> reject_{true};
  TestEndpoint server_;
};

// ---------------------------------------------------------------------------------------------
// Helpers.

std::string MemoryContent(int i, bool reject) {
  return "admin api memory " + std::to_string(i) + " about harbors" + (reject ? " REJECT" : "");
}

// n memories; those with index % reject_every == 0 say REJECT (0: none).
std::string Body(int n, int reject_every, const std::string& extra = "") {
  std::string body = "{\"memories\":[";
  for (int i = 0; i < n; ++i) {
    if (i > 0)
      body += ",";
    bool reject = reject_every > 0 && i % reject_every == 0;
    body += "{\"content\":" + JsonQuote(MemoryContent(i, reject)) + "}";
  }
  return body + "]" + (extra.empty() ? "" : "," + extra) + "}";
}

std::string Submit(const ApiClient& api, const std::string& body) {
  Reply r = api.Call("POST", "/v1/memory/batch", body, {}, 60000);
  EXPECT_EQ(r.status, 202) << r.Describe();
  return r.status == 202 ? Str(r.Json()["batch_id"]) : "";
}

// A long-running batch: 10,000 memories one at a time.
std::string SubmitLongBatch(const ApiClient& api) {
  return Submit(api, Body(10000, 0, "\"max_concurrency\":1"));
}

std::string BatchState(const ApiClient& api, const std::string& id) {
  Reply r = api.Get("/v1/memory/batch/status/" + id);
  return r.status == 200 ? Str(r.Json()["status"]) : "HTTP " + std::to_string(r.status);
}

Reply Admin(const ApiClient& api, const std::string& id, const std::string& action,
            const std::string& body = "") {
  return api.Call("POST", "/v1/admin/workflows/" + id + "/" + action, body, {}, 60000);
}

// The types of every event of the workflow's history, in order.
std::vector<std::string> HistoryTypes(const ApiClient& api, const std::string& id,
                                      std::vector<std::string>* details = nullptr) {
  std::vector<std::string> types;
  int64_t after = 0;
  for (int page = 0; page < 200; ++page) {
    Reply r =
        api.Get("/v1/admin/workflows/" + id + "/history?limit=1000&after=" + std::to_string(after));
    if (r.status != 200) {
      ADD_FAILURE() << "history of " << id << ": " << r.Describe();
      return types;
    }
    element doc = r.Json();
    simdjson::dom::array events = doc["events"].get_array().value();
    for (element e : events) {
      types.push_back(Str(e["type"]));
      if (details != nullptr)
        details->push_back(Str(e["details"]));
    }
    if (IsNull(doc["next_after"]))
      return types;
    after = Int(doc["next_after"]);
  }
  return types;
}

ServerOptions CloudOptions(const RejectingEndpoint& endpoint) {
  ServerOptions o;
  o.config_file = ConfigPath("cloud.yaml");
  o.extra_yaml =
      endpoint.Yaml() + "auth:\n  api_keys:\n    - {key: " + kOtherKey + ", user_id: other}\n";
  o.start_timeout_ms = 30000;
  return o;
}

class AdminApiIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
#if !PAPR_WITH_ENGINE
    GTEST_SKIP() << "durable workflows need a build with PAPR_WITH_ENGINE";
#endif
  }
};

TEST_F(AdminApiIntegrationTest, TerminateEndsARunningBatchForItsOwnerOnly) {
  RejectingEndpoint endpoint;
  ServerProcess server(CloudOptions(endpoint));
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  ApiClient other(server.port(), kOtherKey);
  std::string id = SubmitLongBatch(api);
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(WaitForState(api, id, {"processing"}), "processing");

  Reply foreign = Admin(other, id, "terminate", "{\"reason\":\"not yours\"}");
  EXPECT_TRUE(IsErrorEnvelope(foreign, 404));
  Reply no_reason = Admin(api, id, "terminate", "{}");
  EXPECT_TRUE(IsErrorEnvelope(no_reason, 400));
  EXPECT_EQ(Str(no_reason.Json()["details"]["field"]), "reason");
  EXPECT_TRUE(IsErrorEnvelope(Admin(api, id, "terminate", "{\"reason\":"), 400));
  Reply wrong_method = api.Get("/v1/admin/workflows/" + id + "/terminate");
  EXPECT_TRUE(IsErrorEnvelope(wrong_method, 405));
  EXPECT_TRUE(IsErrorEnvelope(Admin(api, id, "explode", "{}"), 404));
  EXPECT_EQ(BatchState(api, id), "processing");

  Reply terminated = Admin(api, id, "terminate", "{\"reason\":\"it-test stop\"}");
  ASSERT_EQ(terminated.status, 200) << terminated.Describe();
  EXPECT_EQ(Str(terminated.Json()["workflow_id"]), id);
  EXPECT_EQ(Str(terminated.Json()["action"]), "terminate");
  EXPECT_EQ(Str(terminated.Json()["status"]), "terminated");

  // The batch status says terminated, with the reason; what never ran is canceled.
  Reply status = api.Get("/v1/memory/batch/status/" + id);
  ASSERT_EQ(status.status, 200) << status.Describe();
  EXPECT_EQ(Str(status.Json()["status"]), "terminated");
  EXPECT_EQ(Str(status.Json()["reason"]), "it-test stop");
  element counts = status.Json()["request_counts"].value();
  EXPECT_EQ(Int(counts["total"]), 10000);
  EXPECT_EQ(Int(counts["processing"]), 0);
  EXPECT_EQ(Int(counts["succeeded"]) + Int(counts["failed"]) + Int(counts["canceled"]), 10000);
  EXPECT_GT(Int(counts["canceled"]), 0);
  std::vector<std::string> details;
  std::vector<std::string> types = HistoryTypes(api, id, &details);
  ASSERT_FALSE(types.empty());
  EXPECT_EQ(types.back(), "WorkflowExecutionTerminated");
  EXPECT_NE(details.back().find("it-test stop"), std::string::npos) << details.back();

  Reply again = Admin(api, id, "terminate", "{\"reason\":\"twice\"}");
  EXPECT_TRUE(IsErrorEnvelope(again, 409));
  EXPECT_NE(Str(again.Json()["error"]).find("already terminated"), std::string::npos) << again.body;
}

// Issue 12: an execution took any number of signals. Its signals' total bytes are capped
// (kMaxSignalBytesPerExecution, 4 MiB): 64 signals of 64,000 bytes fit, the next is a 413.
TEST_F(AdminApiIntegrationTest, SignalBytesPerExecutionAreCapped) {
  RejectingEndpoint endpoint;
  ServerProcess server(CloudOptions(endpoint));
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  std::string id = SubmitLongBatch(api);
  ASSERT_FALSE(id.empty());
  const std::string body =
      "{\"name\":\"bulk\",\"input\":" + JsonQuote(std::string(64'000 - 6, 'x')) + "}";
  int accepted = 0;
  Reply last;
  for (int i = 0; i < 70; ++i) {
    last = Admin(api, id, "signal", body);
    if (last.status != 200) break;
    ++accepted;
  }
  EXPECT_EQ(accepted, 65) << last.Describe();  // 65 x 64,000 B <= 4 MiB < 66 x 64,000 B
  EXPECT_TRUE(IsErrorEnvelope(last, 413)) << last.Describe();
  EXPECT_NE(last.body.find("per execution"), std::string::npos) << last.body;
}

TEST_F(AdminApiIntegrationTest, SignalAndCancelAreRecordedInTheHistory) {
  RejectingEndpoint endpoint;
  ServerProcess server(CloudOptions(endpoint));
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  ApiClient other(server.port(), kOtherKey);
  std::string id = SubmitLongBatch(api);
  ASSERT_FALSE(id.empty());

  EXPECT_TRUE(IsErrorEnvelope(Admin(api, id, "signal", "{\"input\":1}"), 400));  // no name
  EXPECT_TRUE(IsErrorEnvelope(Admin(other, id, "signal", "{\"name\":\"poke\"}"), 404));
  // Issue 12: signals of any size were recorded (20 x 50 MB made every restart 1 GB).
  Reply huge = Admin(api, id, "signal",
                     "{\"name\":\"poke\",\"input\":" + JsonQuote(std::string(70'000, 'x')) + "}");
  ASSERT_TRUE(IsErrorEnvelope(huge, 413));
  EXPECT_EQ(Str(huge.Json()["details"]["field"]), "input") << huge.body;
  Reply signalled = Admin(api, id, "signal", "{\"name\":\"poke\",\"input\":{\"n\": [1, \"two\"]}}");
  ASSERT_EQ(signalled.status, 200) << signalled.Describe();
  EXPECT_EQ(Str(signalled.Json()["action"]), "signal");
  EXPECT_EQ(Str(signalled.Json()["status"]), "running");

  // A chunk-style id (with '/') is parsed whole: the workflow simply does not exist.
  Reply chunk = Admin(api, id + "/chunk-0", "cancel");
  EXPECT_TRUE(IsErrorEnvelope(chunk, 404));
  EXPECT_NE(Str(chunk.Json()["error"]).find(id + "/chunk-0"), std::string::npos) << chunk.body;
  EXPECT_TRUE(IsErrorEnvelope(Admin(other, id, "cancel"), 404));

  Reply cancelled = Admin(api, id, "cancel");  // no body: the reason is optional
  ASSERT_EQ(cancelled.status, 200) << cancelled.Describe();
  EXPECT_EQ(Str(cancelled.Json()["action"]), "cancel");
  EXPECT_TRUE(cancelled.Json()["cancel_requested"].get_bool().value()) << cancelled.body;
  std::string st = Str(cancelled.Json()["status"]);
  EXPECT_TRUE(st == "running" || st == "canceled") << cancelled.body;
  EXPECT_EQ(WaitForState(api, id, {"cancelled"}), "cancelled");

  std::vector<std::string> details;
  std::vector<std::string> types = HistoryTypes(api, id, &details);
  auto signal_at = std::find(types.begin(), types.end(), "WorkflowExecutionSignaled");
  ASSERT_NE(signal_at, types.end());
  const std::string& signal_details = details[signal_at - types.begin()];
  EXPECT_NE(signal_details.find("signal_name=poke"), std::string::npos) << signal_details;
  EXPECT_NE(signal_details.find("{\"n\":[1,\"two\"]}"), std::string::npos) << signal_details;
  auto cancel_at = std::find(types.begin(), types.end(), "WorkflowExecutionCancelRequested");
  ASSERT_NE(cancel_at, types.end());
  EXPECT_GT(cancel_at - types.begin(), signal_at - types.begin());
  EXPECT_EQ(types.back(), "WorkflowExecutionCanceled");
  EXPECT_TRUE(IsErrorEnvelope(Admin(api, id, "cancel"), 409));  // already canceled
}

TEST_F(AdminApiIntegrationTest, RetryRunsExactlyTheFailedMemoriesAsANewBatch) {
  RejectingEndpoint endpoint;
  ServerProcess server(CloudOptions(endpoint));
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  ApiClient other(server.port(), kOtherKey);
  std::string clean = Submit(api, Body(5, 0));
  std::string partial = Submit(api, Body(12, 3));  // 0, 3, 6, 9 are rejected
  ASSERT_FALSE(clean.empty() || partial.empty());
  ASSERT_EQ(WaitForState(api, clean, {"completed"}), "completed");
  ASSERT_EQ(WaitForState(api, partial, {"partial"}), "partial");

  EXPECT_TRUE(IsErrorEnvelope(Admin(api, clean, "retry"), 409));  // nothing failed
  EXPECT_TRUE(IsErrorEnvelope(Admin(other, partial, "retry"), 404));
  std::string running = SubmitLongBatch(api);
  ASSERT_FALSE(running.empty());
  EXPECT_TRUE(IsErrorEnvelope(Admin(api, running, "retry"), 409));
  ASSERT_EQ(Admin(api, running, "terminate", "{\"reason\":\"done with it\"}").status, 200);

  endpoint.set_reject(false);  // the cause of the failures is fixed
  Reply retried = Admin(api, partial, "retry");
  ASSERT_EQ(retried.status, 202) << retried.Describe();
  std::string retry_id = Str(retried.Json()["batch_id"]);
  EXPECT_NE(retry_id, partial);
  element details = retried.Json()["details"].value();
  EXPECT_EQ(Str(details["status_url"]), "/v1/memory/batch/status/" + retry_id);
  EXPECT_EQ(retried.Header("location"), "/v1/memory/batch/status/" + retry_id);
  EXPECT_EQ(Str(details["retry_of"]), partial);
  EXPECT_EQ(Int(details["memories"]), 4);
  EXPECT_FALSE(details["existing"].get_bool().value());
  EXPECT_TRUE(details["durable"].get_bool().value());

  ASSERT_EQ(WaitForState(api, retry_id, {"completed", "partial", "failed"}), "completed");
  Reply results = api.Get("/v1/memory/batch/" + retry_id + "/results");
  ASSERT_EQ(results.status, 200) << results.Describe();
  std::vector<std::string> contents;
  simdjson::dom::array items = results.Json()["results"].get_array().value();
  for (element item : items) {
    EXPECT_EQ(Str(item["status"]), "succeeded") << results.body;
    Reply memory = api.Get("/v1/memory/" + Str(item["memoryId"]));
    ASSERT_EQ(memory.status, 200) << memory.Describe();
    contents.push_back(Str(memory.Json()["data"]["memories"].at(0)["content"]));
  }
  EXPECT_EQ(contents, (std::vector<std::string>{MemoryContent(0, true), MemoryContent(3, true),
                                                MemoryContent(6, true), MemoryContent(9, true)}));

  Reply again = Admin(api, partial, "retry");
  ASSERT_EQ(again.status, 202) << again.Describe();
  EXPECT_EQ(Str(again.Json()["batch_id"]), retry_id);
  EXPECT_TRUE(again.Json()["details"]["existing"].get_bool().value());
}

TEST_F(AdminApiIntegrationTest, OssEditionHasNoDurableWorkflows) {
  ServerProcess server;  // config/opensource.yaml
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  std::string id = Submit(api, Body(3, 0));
  ASSERT_FALSE(id.empty());
  for (const auto& [action, body] : std::vector<std::pair<std::string, std::string>>{
           {"terminate", "{\"reason\":\"r\"}"}, {"signal", "{\"name\":\"n\"}"}, {"retry", ""}}) {
    Reply r = Admin(api, id, action, body);
    EXPECT_TRUE(IsErrorEnvelope(r, 404)) << action;
    EXPECT_NE(r.body.find("cloud edition"), std::string::npos) << r.body;
  }
  EXPECT_TRUE(IsErrorEnvelope(Admin(api, "no-such-batch", "cancel"), 404));
}

}  // namespace
}  // namespace papr::integration
