#include "tests/integration/batch_polling.h"

#include <algorithm>
#include <thread>

#include <gtest/gtest.h>

namespace papr::integration {
namespace {

// A failed poll: status 0, so `ASSERT_EQ(reply.status, 200)` stops the caller, with the last
// answer's body kept for the caller's diagnostics.
Reply Failed(Reply last, const std::string& why) {
  Reply failed;
  failed.body = std::move(last.body);
  failed.transport_error = why;
  return failed;
}

}  // namespace

Reply PollStatus(const ApiClient& api, const std::string& batch_id,
                 const std::function<bool(const Reply&)>& done, std::chrono::seconds timeout,
                 PollOptions options) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    Reply r = api.Get("/v1/memory/batch/status/" + batch_id);
    if (r.status == 200) {
      if (done(r)) return r;
    } else if (!options.retry_errors) {
      ADD_FAILURE() << "status of " << batch_id << ": " << r.Describe();
      std::string why = "status answer HTTP " + std::to_string(r.status);
      return Failed(std::move(r), why);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "batch " << batch_id << ": condition not reached within "
                    << timeout.count() << " s; last status: "
                    << (r.status == 200 ? r.body.substr(0, 2000) : r.Describe());
      return Failed(std::move(r), "condition not reached within " +
                                      std::to_string(timeout.count()) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(options.interval_ms));
  }
}

std::string SubmitBatch(const ApiClient& api, const std::string& body, Headers headers) {
  Reply r = api.Call("POST", "/v1/memory/batch", body, std::move(headers), 60000);
  EXPECT_EQ(r.status, 202) << r.Describe();
  if (r.status != 202) return "";
  return Str(r.Json()["batch_id"]);
}

Reply WaitForEnd(const ApiClient& api, const std::string& batch_id,
                 std::chrono::seconds timeout) {
  return PollStatus(
      api, batch_id, [](const Reply& r) { return IsTerminalState(Str(r.Json()["status"])); },
      timeout);
}

std::string WaitForState(const ApiClient& api, const std::string& batch_id,
                         const std::vector<std::string>& states, std::chrono::seconds timeout) {
  auto wanted = [&states](const Reply& r) {
    return std::find(states.begin(), states.end(), Str(r.Json()["status"])) != states.end();
  };
  Reply r = PollStatus(api, batch_id, wanted, timeout, {.retry_errors = true});
  return r.status == 200 && wanted(r) ? Str(r.Json()["status"]) : "";
}

std::vector<std::string> SearchContents(const ApiClient& api, const std::string& query) {
  Reply r = api.Post("/v1/memory/search?max_memories=10", "{\"query\":" + JsonQuote(query) + "}");
  EXPECT_EQ(r.status, 200) << r.Describe();
  std::vector<std::string> contents;
  if (r.status != 200) return contents;
  for (auto hit : r.Json()["data"]["memories"].get_array()) contents.push_back(Str(hit["content"]));
  return contents;
}

}  // namespace papr::integration
