#pragma once

#include <string>

#include "common/status.h"

namespace papr::api {

//! An HTTP error answer in the envelope of API.md:
//! {"code": status, "status": "error", "error": message, "details": details_json}.
struct ApiError {
  int status = 500;
  std::string message;
  std::string details_json = "{}";  // a JSON object
  int retry_after_seconds = 0;      // > 0 adds a Retry-After header

  static ApiError FromStatus(const Status& s);
};

// The JSON body of the error envelope.
std::string ErrorBody(const ApiError& e);

}  // namespace papr::api
