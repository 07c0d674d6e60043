// The edges after a batch's close, against the real binary (cloud edition): requests that
// reach a closed workflow answer 409 and are never acknowledged without an event, and the
// batch listing's opaque cursor.

#include <atomic>
#include <string>
#include <thread>
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

class CloudCloseTest : public ::testing::Test {
 protected:
  void SetUp() override {
#if !PAPR_WITH_ENGINE
    GTEST_SKIP() << "durable workflows need a build with PAPR_WITH_ENGINE";
#endif
  }

  ServerOptions Options() const {
    ServerOptions o;
    o.config_file = ConfigPath("cloud.yaml");
    o.extra_yaml = endpoint_.ProcessingYaml();
    o.start_timeout_ms = 30000;
    return o;
  }

  std::string Submit(const ApiClient& api, int n) {
    Reply r = api.Call("POST", "/v1/memory/batch",
                       BatchBody(n, [](int i) { return "close test memory " + std::to_string(i); }),
                       {}, 60000);
    EXPECT_EQ(r.status, 202) << r.Describe();
    return r.status == 202 ? Str(r.Json()["batch_id"]) : "";
  }

  int64_t SignaledEvents(const ApiClient& api, const std::string& id) {
    int64_t n = 0, after = 0;
    for (int page = 0; page < 100; ++page) {
      Reply r = api.Get("/v1/admin/workflows/" + id + "/history?limit=1000&after=" +
                        std::to_string(after));
      EXPECT_EQ(r.status, 200) << r.Describe();
      if (r.status != 200) return -1;
      element doc = r.Json();
      simdjson::dom::array events = doc["events"].get_array().value();
      for (element e : events) n += Str(e["type"]) == "WorkflowExecutionSignaled";
      if (IsNull(doc["next_after"])) break;
      after = Int(doc["next_after"]);
    }
    return n;
  }

  TestEndpoint endpoint_{[](const net::HttpRequest&) {
    return net::HttpResponse::Json(200, "{\"ok\":true}");
  }};
};

// Signals sent from several clients while a batch runs to its close: every 200 has its
// Signaled event in the history, and once closed every signal answers 409.
TEST_F(CloudCloseTest, SignalsAroundTheCloseAreRecordedOrRefused) {
  ServerProcess server(Options());
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  std::string id = Submit(api, 300);
  ASSERT_FALSE(id.empty());
  std::atomic<int64_t> accepted{0};
  std::atomic<int> refused{0}, other{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t) {
    senders.emplace_back([&] {
      ApiClient client(server.port(), kTestApiKey);
      for (int i = 0; i < 2000; ++i) {
        Reply r = client.Call("POST", "/v1/admin/workflows/" + id + "/signal",
                              "{\"name\":\"poke\"}", {}, 60000);
        if (r.status == 200) {
          ++accepted;
        } else if (r.status == 409) {
          ++refused;
          return;
        } else {
          ++other;
          return;
        }
      }
    });
  }
  for (auto& s : senders) s.join();
  EXPECT_GT(accepted.load(), 0);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(refused.load(), 4) << "every sender ends on a 409 once the batch closed";
  EXPECT_TRUE(IsTerminalState(Str(api.Get("/v1/memory/batch/status/" + id).Json()["status"])));
  EXPECT_EQ(SignaledEvents(api, id), accepted.load());
  Reply late = api.Call("POST", "/v1/admin/workflows/" + id + "/signal", "{\"name\":\"late\"}");
  EXPECT_TRUE(IsErrorEnvelope(late, 409)) << late.Describe();
  EXPECT_EQ(SignaledEvents(api, id), accepted.load());
}

// The listing cursor is opaque and seeks; a bare batch id (the cursor's old form) still works.
TEST_F(CloudCloseTest, ListingCursorPagesAndAcceptsABareBatchId) {
  ServerProcess server(Options());
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(Submit(api, 1));
    ASSERT_FALSE(ids.back().empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // distinct start times
  }
  Reply first = api.Get("/v1/memory/batch?limit=1");
  ASSERT_EQ(first.status, 200) << first.Describe();
  ASSERT_FALSE(IsNull(first.Json()["next_after"])) << first.body;
  EXPECT_EQ(Str(first.Json()["batches"].at(0)["batch_id"]), ids[2]);
  std::string cursor = Str(first.Json()["next_after"]);
  Reply second = api.Get("/v1/memory/batch?limit=1&after=" + cursor);
  ASSERT_EQ(second.status, 200) << second.Describe();
  EXPECT_EQ(Str(second.Json()["batches"].at(0)["batch_id"]), ids[1]) << second.body;
  Reply bare = api.Get("/v1/memory/batch?limit=5&after=" + ids[2]);
  ASSERT_EQ(bare.status, 200) << bare.Describe();
  EXPECT_EQ(bare.Json()["batches"].get_array().value().size(), 2u) << bare.body;
  EXPECT_EQ(Str(bare.Json()["batches"].at(0)["batch_id"]), ids[1]) << bare.body;
}

}  // namespace
}  // namespace papr::integration
