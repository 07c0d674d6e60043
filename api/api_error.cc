#include "api/api_error.h"

#include <string_view>

#include "common/ascii.h"
#include "common/json_writer.h"

namespace papr::api {
namespace {

// A full disk is the client's business only as "insufficient storage"; other I/O failures
// are transient from its point of view.
int IoErrorHttpStatus(const std::string& message) {
  if (ContainsIgnoreCase(message, "no space") || ContainsIgnoreCase(message, "enospc")) {
    return 507;
  }
  return 503;
}

}  // namespace

ApiError ApiError::FromStatus(const Status& s) {
  ApiError e;
  e.message = s.message().empty() ? StatusCodeName(s.code()) : s.message();
  switch (s.code()) {
    case StatusCode::kInvalidArgument: e.status = 400; break;
    case StatusCode::kNotFound: e.status = 404; break;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition: e.status = 409; break;
    case StatusCode::kResourceExhausted:
      e.status = 429;
      e.retry_after_seconds = 1;
      break;
    case StatusCode::kPayloadTooLarge: e.status = 413; break;
    case StatusCode::kUnauthenticated: e.status = 401; break;
    case StatusCode::kUnavailable:
    case StatusCode::kOwnershipLost:   // another node serves it now: the client retries
    case StatusCode::kUnknownOutcome:  // not acknowledged: the client retries idempotently
      e.status = 503;
      e.retry_after_seconds = 1;
      break;
    case StatusCode::kDeadlineExceeded: e.status = 504; break;
    case StatusCode::kIoError: e.status = IoErrorHttpStatus(s.message()); break;
    case StatusCode::kCorruption:
    case StatusCode::kInternal: e.status = 500; break;
    case StatusCode::kOk:  // A programmer error: an OK status is not an error answer.
      e.status = 500;
      e.message = "internal error: error answer built from an OK status";
      break;
  }
  return e;
}

std::string ErrorBody(const ApiError& e) {
  JsonWriter w;
  w.BeginObject()
      .Field("code", e.status)
      .Field("status", "error")
      .Field("error", e.message)
      .FieldRaw("details", e.details_json.empty() ? std::string_view("{}") : e.details_json)
      .EndObject();
  return w.Take();
}

}  // namespace papr::api
