#pragma once

#include <memory>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

// A small HTTP client for the integration tests, on the project's own net::HttpCall, with
// JSON answers parsed by simdjson's DOM API. simdjson's exception mode is used on purpose:
// a missing field or a wrong type throws, and gtest reports it as a test failure.

namespace papr::integration {

using Headers = std::vector<std::pair<std::string, std::string>>;

//! One HTTP answer. status 0: the exchange failed (`transport_error` says why).
struct Reply {
  int status = 0;
  std::string body;
  Headers headers;  // lowercase names
  std::string transport_error;

  std::string_view Header(std::string_view lowercase_name) const;
  // The parsed body. Throws simdjson::simdjson_error if the body is not JSON.
  simdjson::dom::element Json() const;
  // "HTTP 404 <body>" for failure messages.
  std::string Describe() const;

 private:
  mutable std::shared_ptr<simdjson::dom::parser> parser_;
  mutable simdjson::dom::element root_;
};

//! Calls one server at 127.0.0.1:port with an API key (X-API-Key unless `bearer`).
//! Thread-compatible; every call is one connection.
class ApiClient {
 public:
  ApiClient(int port, std::string api_key) : port_(port), api_key_(std::move(api_key)) {}

  Reply Get(const std::string& path) const { return Call("GET", path); }
  Reply Delete(const std::string& path) const { return Call("DELETE", path); }
  Reply Post(const std::string& path, const std::string& body, Headers headers = {}) const {
    return Call("POST", path, body, std::move(headers));
  }
  // Sends the key as X-API-Key (or as a Bearer token with bearer=true); no key if empty.
  Reply Call(const std::string& method, const std::string& path, const std::string& body = "",
             Headers headers = {}, int timeout_ms = 15000) const;

  void set_bearer(bool bearer) { bearer_ = bearer; }
  int port() const { return port_; }

 private:
  int port_;
  std::string api_key_;
  bool bearer_ = false;
};

// JSON string literal of `s` (quotes and escapes), for building request bodies.
std::string JsonQuote(std::string_view s);
// A BatchMemoryRequest body: {"memories":[...], <extra_fields>}, memory i with content(i) and
// metadata.customMetadata.i = i (tests map requests back to indexes through it).
std::string BatchBody(int n, const std::function<std::string(int)>& content,
                      const std::string& extra_fields = "");

// The values of a JSON string element (throws when not a string).
std::string Str(simdjson::simdjson_result<simdjson::dom::element> v);
int64_t Int(simdjson::simdjson_result<simdjson::dom::element> v);
std::string Str(const simdjson::dom::element& v);
int64_t Int(const simdjson::dom::element& v);
// True when `haystack` contains `needle`, ASCII case ignored.
bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle);
bool IsNull(simdjson::simdjson_result<simdjson::dom::element> v);
// Raw minified JSON of an element.
std::string Raw(simdjson::simdjson_result<simdjson::dom::element> v);
std::string Raw(const simdjson::dom::element& v);

// Checks the error envelope of API.md: status `code`, JSON content type, body
// {"code": code, "status": "error", "error": "<non-empty>", "details": {...}}.
::testing::AssertionResult IsErrorEnvelope(const Reply& reply, int code);

}  // namespace papr::integration
