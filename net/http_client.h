#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "net/url.h"

namespace papr::net {


struct HttpClientRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Whole exchange (resolve, connect, write, read) must finish within this.
  int timeout_ms = 15000;
  // Larger response bodies are cut here (the status still counts).
  uint64_t max_response_bytes = 1 << 20;
  // Called with each resolved address before connecting and with the address actually
  // connected to; a non-OK status refuses the call (SSRF guard). Optional.
  std::function<Status(const std::string& ip)> address_check;
  // Called every `progress_interval_ms` while the exchange is in flight, so a caller that
  // must show it is alive (an activity's heartbeat) can while it waits. Optional.
  std::function<void()> on_progress;
  int progress_interval_ms = 1000;
};

struct HttpClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // lowercase names
  std::string body;
  std::string remote_address;

  std::string_view Header(std::string_view lowercase_name) const;
};

// One blocking HTTP/1.1 exchange (no redirects followed). Network errors: Unavailable;
// timeout: DeadlineExceeded; refused address: FailedPrecondition. A URL ParseUrl refuses, or a
// control byte (CR, LF, NUL, ...) in the method, a header name or a header value, is
// InvalidArgument before anything is sent (no request splitting). Thread-safe.
Result<HttpClientResponse> HttpCall(const HttpClientRequest& request);

}  // namespace papr::net
