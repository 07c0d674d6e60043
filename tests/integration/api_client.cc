#include "tests/integration/api_client.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "net/http_client.h"

namespace papr::integration {

std::string_view Reply::Header(std::string_view lowercase_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lowercase_name) return value;
  }
  return {};
}

simdjson::dom::element Reply::Json() const {
  if (!parser_) {
    parser_ = std::make_shared<simdjson::dom::parser>();
    root_ = parser_->parse(body);  // throws on malformed JSON
  }
  return root_;
}

std::string Reply::Describe() const {
  if (status == 0) return "no HTTP answer: " + transport_error;
  std::string shown = body.size() > 2000 ? body.substr(0, 2000) + "..." : body;
  return "HTTP " + std::to_string(status) + " " + shown;
}

Reply ApiClient::Call(const std::string& method, const std::string& path,
                      const std::string& body, Headers headers, int timeout_ms) const {
  net::HttpClientRequest request;
  request.method = method;
  request.url = "http://127.0.0.1:" + std::to_string(port_) + path;
  request.timeout_ms = timeout_ms;
  request.max_response_bytes = 64 << 20;
  request.body = body;
  if (!api_key_.empty()) {
    if (bearer_) {
      request.headers.emplace_back("Authorization", "Bearer " + api_key_);
    } else {
      request.headers.emplace_back("X-API-Key", api_key_);
    }
  }
  if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  for (auto& h : headers) request.headers.push_back(std::move(h));
  Reply reply;
  auto response = net::HttpCall(request);
  if (!response.ok()) {
    reply.transport_error = response.status().message();
    return reply;
  }
  reply.status = response->status;
  reply.body = std::move(response->body);
  reply.headers = std::move(response->headers);
  return reply;
}

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string Str(simdjson::simdjson_result<simdjson::dom::element> v) {
  return std::string(v.get_string().value());
}

int64_t Int(simdjson::simdjson_result<simdjson::dom::element> v) {
  return v.get_int64().value();
}

std::string Str(const simdjson::dom::element& v) { return std::string(v.get_string().value()); }
int64_t Int(const simdjson::dom::element& v) { return v.get_int64().value(); }

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  auto same = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  };
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(), same) !=
         haystack.end();
}

bool IsNull(simdjson::simdjson_result<simdjson::dom::element> v) { return v.is_null(); }

std::string Raw(simdjson::simdjson_result<simdjson::dom::element> v) {
  return simdjson::minify(v.value());
}

std::string Raw(const simdjson::dom::element& v) { return simdjson::minify(v); }

::testing::AssertionResult IsErrorEnvelope(const Reply& reply, int code) {
  if (reply.status != code) {
    return ::testing::AssertionFailure() << "expected HTTP " << code << ", got "
                                         << reply.Describe();
  }
  if (reply.Header("content-type").find("application/json") == std::string_view::npos) {
    return ::testing::AssertionFailure()
           << "error answer content-type is '" << reply.Header("content-type") << "'";
  }
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(reply.body).get(obj) != simdjson::SUCCESS) {
    return ::testing::AssertionFailure() << "error body is not a JSON object: " << reply.body;
  }
  int64_t body_code = 0;
  std::string_view status, error;
  simdjson::dom::object details;
  if (obj["code"].get(body_code) != simdjson::SUCCESS || body_code != code) {
    return ::testing::AssertionFailure() << "body.code != " << code << ": " << reply.body;
  }
  if (obj["status"].get(status) != simdjson::SUCCESS || status != "error") {
    return ::testing::AssertionFailure() << "body.status != \"error\": " << reply.body;
  }
  if (obj["error"].get(error) != simdjson::SUCCESS || error.empty() ||
      error.find('\n') != std::string_view::npos) {
    return ::testing::AssertionFailure() << "body.error not a one-line message: " << reply.body;
  }
  if (obj["details"].get(details) != simdjson::SUCCESS) {
    return ::testing::AssertionFailure() << "body.details is not an object: " << reply.body;
  }
  return ::testing::AssertionSuccess();
}

std::string BatchBody(int n, const std::function<std::string(int)>& content,
                      const std::string& extra_fields) {
  std::string body;
  body.reserve(static_cast<size_t>(n) * 640 + extra_fields.size() + 32);
  body += "{\"memories\":[";
  for (int i = 0; i < n; ++i) {
    if (i > 0) body += ",";
    body += "{\"content\":" + JsonQuote(content(i)) +
            ",\"metadata\":{\"customMetadata\":{\"i\":" + std::to_string(i) + "}}}";
  }
  body += "]";
  if (!extra_fields.empty()) body += "," + extra_fields;
  return body + "}";
}

}  // namespace papr::integration
