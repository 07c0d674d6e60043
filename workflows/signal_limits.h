#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace papr::workflows {

// Limits on one signal to a workflow execution (admin API and engine-admin), so a signal
// cannot grow a history (replayed at every recovery) by megabytes at a time.
inline constexpr int64_t kMaxSignalInputBytes = 64 * 1024;  // minified `input` JSON
inline constexpr int64_t kMaxSignalNameBytes = 256;

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

}  // namespace papr::workflows
