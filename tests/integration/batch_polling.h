#pragma once

// Polling of GET /v1/memory/batch/status/{id} for the integration tests, shared by the test
// files that wait for a batch (or its webhook) to reach some state.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "tests/integration/api_client.h"

namespace papr::integration {

// The batch states that do not change any more. Inline so that code built from a test file
// without this directory's .cc files (bench/soak includes reliability_crash_loop_test.cc) can
// use it.
inline bool IsTerminalState(const std::string& s) {
  return s == "completed" || s == "partial" || s == "failed" || s == "cancelled" ||
         s == "terminated";
}

struct PollOptions {
  // Pause between two status requests.
  int interval_ms = 50;
  // Keep polling through answers other than 200 (a restarting server, a transient error)
  // until the deadline, instead of failing at the first one.
  bool retry_errors = false;
};

// Polls the status of `batch_id` until `done` holds for a 200 answer, and returns that answer.
// On failure (an answer other than 200 without `retry_errors`, or no success within `timeout`)
// records a test failure naming the batch and the last answer, and returns a reply with status
// 0 (callers checking `.status == 200` stop there) that keeps the last answer's body.
Reply PollStatus(const ApiClient& api, const std::string& batch_id,
                 const std::function<bool(const Reply&)>& done, std::chrono::seconds timeout,
                 PollOptions options = {});

// POST /v1/memory/batch expecting 202 (generous timeout: 10k-memory bodies are ~6 MB and the
// cloud edition fsyncs before answering). Returns batch_id, "" after a test failure.
std::string SubmitBatch(const ApiClient& api, const std::string& body, Headers headers = {});

// Polls until the batch is in a terminal state (see PollStatus for failures).
Reply WaitForEnd(const ApiClient& api, const std::string& batch_id, std::chrono::seconds timeout);

// Polls (through errors) until the batch's "status" is one of `states`; returns that state, or
// "" with a test failure when none was seen within `timeout`.
std::string WaitForState(const ApiClient& api, const std::string& batch_id,
                         const std::vector<std::string>& states,
                         std::chrono::seconds timeout = std::chrono::seconds(60));

// The contents of the memories a search for `query` finds (at most 10), [] after a test failure.
std::vector<std::string> SearchContents(const ApiClient& api, const std::string& query);

}  // namespace papr::integration
