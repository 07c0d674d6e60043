#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace papr::workflows {

// Limits on one signal to a workflow execution (admin API and engine-admin), so a signal
// cannot grow a history (replayed at every recovery) by megabytes at a time.
inline constexpr int64_t kMaxSignalInputBytes = 64 * 1024;  // minified `input` JSON
inline constexpr int64_t kMaxSignalNameBytes = 256;
// Per execution, over its whole history (Temporal's default count limit is 10,000).
inline constexpr int64_t kMaxSignalsPerExecution = 10000;
inline constexpr int64_t kMaxSignalBytesPerExecution = 4 * 1024 * 1024;  // names + inputs

// PayloadTooLarge naming the part over its limit; OK otherwise.
inline Status CheckSignalSize(const std::string& name, const std::string& input_json) {
  if (static_cast<int64_t>(name.size()) > kMaxSignalNameBytes) {
    return Status::PayloadTooLarge("signal name is " + std::to_string(name.size()) +
                                   " bytes, over the limit of " +
                                   std::to_string(kMaxSignalNameBytes));
  }
  if (static_cast<int64_t>(input_json.size()) > kMaxSignalInputBytes) {
    return Status::PayloadTooLarge("signal input is " + std::to_string(input_json.size()) +
                                   " bytes, over the limit of " +
                                   std::to_string(kMaxSignalInputBytes));
  }
  return Status::Ok();
}

//! What an execution's history already holds of signals.
struct SignalUsage {
  int64_t count = 0;
  int64_t bytes = 0;  // names + inputs
};

// FailedPrecondition (409) when one more signal would pass kMaxSignalsPerExecution,
// PayloadTooLarge (413) when its bytes would pass kMaxSignalBytesPerExecution.
inline Status CheckSignalBudget(const SignalUsage& used, const std::string& name,
                                const std::string& input_json) {
  if (used.count + 1 > kMaxSignalsPerExecution) {
    return Status::FailedPrecondition("the execution has received " + std::to_string(used.count) +
                                      " signals, the most one execution takes (" +
                                      std::to_string(kMaxSignalsPerExecution) + ")");
  }
  auto bytes = static_cast<int64_t>(name.size() + input_json.size());
  if (used.bytes + bytes > kMaxSignalBytesPerExecution) {
    return Status::PayloadTooLarge("the execution's signals would reach " +
                                   std::to_string(used.bytes + bytes) + " bytes, over the limit of " +
                                   std::to_string(kMaxSignalBytesPerExecution) + " per execution");
  }
  return Status::Ok();
}

}  // namespace papr::workflows
