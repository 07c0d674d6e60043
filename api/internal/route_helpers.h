#pragma once

// Answers and query parameters shared by the route handlers (api/*_routes.cc).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/api_error.h"
#include "common/status.h"
#include "net/http_types.h"

namespace papr::api {

net::HttpResponse ErrorResponse(const ApiError& e);
net::HttpResponse StatusError(const Status& s);
net::HttpResponse SimpleError(int code, std::string message, std::string details = "{}");
bool StartsWith(std::string_view s, std::string_view prefix);

// Parses an integer query parameter in [lo, hi]; absent -> fallback. False with a 400 in
// `*error` when it is not one.
bool IntParam(const net::HttpRequest& req, const char* name, int64_t lo, int64_t hi,
              int64_t fallback, int64_t* out, net::HttpResponse* error);

// The end user a request names (query parameter external_user_id, or the deprecated
// user_id): absent -> nullopt. False with a 400 in `*error` when it is malformed.
bool EndUserParam(const net::HttpRequest& req, std::optional<std::string>* end_user,
                  net::HttpResponse* error);

}  // namespace papr::api
