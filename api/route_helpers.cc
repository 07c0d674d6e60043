#include "api/internal/route_helpers.h"

#include <charconv>

#include "api/request_checks.h"
#include "common/json_writer.h"

namespace papr::api {

using net::HttpRequest;
using net::HttpResponse;

HttpResponse ErrorResponse(const ApiError& e) {
  HttpResponse r = HttpResponse::Json(e.status, ErrorBody(e));
  if (e.retry_after_seconds > 0) {
    r.headers.emplace_back("Retry-After", std::to_string(e.retry_after_seconds));
  }
  return r;
}

HttpResponse StatusError(const Status& s) { return ErrorResponse(ApiError::FromStatus(s)); }

HttpResponse SimpleError(int code, std::string message, std::string details) {
  return ErrorResponse(ApiError{code, std::move(message), std::move(details)});
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool IntParam(const HttpRequest& req, const char* name, int64_t lo, int64_t hi, int64_t fallback,
              int64_t* out, HttpResponse* error) {
  std::string raw;
  if (!req.QueryParam(name, &raw)) {
    *out = fallback;
    return true;
  }
  int64_t v = 0;
  auto res = std::from_chars(raw.data(), raw.data() + raw.size(), v);
  if (res.ec != std::errc() || res.ptr != raw.data() + raw.size() || v < lo || v > hi) {
    JsonWriter d;
    d.BeginObject().Field("field", name).Field("min", lo).Field("max", hi).EndObject();
    *error = SimpleError(400, std::string("query parameter ") + name + " must be an integer in [" +
                                  std::to_string(lo) + ", " + std::to_string(hi) + "]",
                         d.Take());
    return false;
  }
  *out = v;
  return true;
}


bool EndUserParam(const HttpRequest& req, std::optional<std::string>* end_user,
                  HttpResponse* error) {
  for (const char* name : {"external_user_id", "user_id"}) {
    std::string raw;
    if (!req.QueryParam(name, &raw)) continue;
    if (!IsValidEndUserId(raw)) {
      JsonWriter d;
      d.BeginObject().Field("field", name);
      d.Field("max_bytes", static_cast<int64_t>(kMaxEndUserIdBytes)).EndObject();
      *error = SimpleError(400, std::string(name) + " must be 1 to 256 bytes without control "
                                "characters", d.Take());
      return false;
    }
    *end_user = std::move(raw);
    return true;
  }
  end_user->reset();
  return true;
}

}  // namespace papr::api
