// The HTTP request path of the server without sockets: the bytes of one connection are read
// with Boost.Beast's request parser exactly as net/http_server.cc reads them (same limits, same
// read loop, keep-alive requests one after another), each request is extracted as OnRead does
// (path/query split, PercentDecode, lowercase header names), and then the request-dependent
// code that needs no running App is run: query parameters, API key authentication and the
// /ui/ static file lookup. Keep ReadRequest and Extract in step with Session in
// net/http_server.cc.
#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http.hpp>
#include <simdjson.h>

#include "api/auth.h"
#include "api/static_files.h"
#include "common/ascii.h"
#include "config/config.h"
#include "fuzz/fuzz_checks.h"
#include "net/http_server.h"
#include "net/http_types.h"
#include "net/request_framing.h"

namespace papr::fuzz {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;

using Parser = http::request_parser<http::string_body>;

constexpr uint32_t kHeaderLimit = 64 * 1024;  // Session::DoRead
constexpr size_t kReadBufferLimit = kHeaderLimit + 16 * 1024;  // Session::buffer_
constexpr size_t kMaxRequestsPerConnection = 32;
// The query parameters api/router.cc reads.
constexpr std::array<std::string_view, 5> kRouterParams = {"max_memories", "wait", "after",
                                                           "limit", "status"};

//! One side of a connection whose peer sends `input`, at most `chunk` bytes per read, then
//! closes. ReadRequest reads like http::async_read(stream, buffer, parser) in Beast 1.74
//! (read_op looping over read_some_op, eager parsing); the buffer carries over between
//! requests like Session::buffer_.
class FakeConnection {
 public:
  FakeConnection(std::string_view input, size_t chunk) : input_(input), chunk_(chunk) {}

  // Session::ReadHead: the bytes up to the first empty line, read before the parser runs
  // (at most kReadBufferLimit of them). False at the end of the input or over the limit.
  bool ReadHead(std::string_view* head) {
    while (true) {
      size_t end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos && end + 4 <= kReadBufferLimit) {
        *head = std::string_view(buffer_).substr(0, end + 4);
        return true;
      }
      if (buffer_.size() >= kReadBufferLimit || offset_ == input_.size()) return false;
      size_t n = std::min({chunk_, input_.size() - offset_, kReadBufferLimit - buffer_.size()});
      buffer_.append(input_.substr(offset_, n));
      offset_ += n;
    }
  }

  beast::error_code ReadRequest(Parser& parser) {
    parser.eager(true);
    beast::error_code ec;
    // Every round consumes input or ends; the bound only guards against a parser that stalls.
    for (size_t round = 0; round <= 2 * input_.size() + 8; ++round) {
      ReadSome(parser, ec);
      if (ec || parser.is_done()) return ec;
    }
    stalled_ = true;
    return http::error::need_more;
  }
  bool stalled() const { return stalled_; }

 private:
  void ReadSome(Parser& parser, beast::error_code& ec) {
    bool need_read = buffer_.empty();
    for (;;) {
      if (!need_read) {
        size_t used = parser.put(asio::buffer(buffer_.data(), buffer_.size()), ec);
        buffer_.erase(0, used);
        if (ec != http::error::need_more) return;
      }
      need_read = false;
      ec = {};
      if (offset_ == input_.size()) {  // end of stream
        if (parser.got_some()) {
          parser.put_eof(ec);
        } else {
          ec = http::error::end_of_stream;
        }
        return;
      }
      size_t n = std::min(chunk_, input_.size() - offset_);
      buffer_.append(input_.substr(offset_, n));
      offset_ += n;
    }
  }

  std::string_view input_;
  size_t chunk_;
  size_t offset_ = 0;
  std::string buffer_;
  bool stalled_ = false;
};

// Session::OnRead's extraction of a parsed message.
net::HttpRequest Extract(http::request<http::string_body>& msg) {
  net::HttpRequest request;
  request.method = std::string(msg.method_string());
  request.target = std::string(msg.target());
  std::string_view target = msg.target();
  size_t q = target.find('?');
  request.path = net::PercentDecode(target.substr(0, q), false);
  if (q != std::string_view::npos) request.query = std::string(target.substr(q + 1));
  for (const auto& field : msg) {
    request.headers.emplace_back(papr::AsciiLower(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(msg.body());
  request.remote_address = "127.0.0.1";
  return request;
}

// The error body Session::WriteError would send for a read error, or "" when the server
// closes the connection without an answer (OnRead).
std::string ErrorBodyFor(const beast::error_code& ec) {
  if (ec == http::error::end_of_stream) return "";
  std::string message;
  int status = 0;
  if (ec == http::error::body_limit) {
    status = 413;
    message = "Request body exceeds limits.max_request_bytes";
  } else if (ec == http::error::header_limit) {
    status = 431;
    message = "Request headers too large";
  } else if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
    status = 400;
    message = "Malformed HTTP request: " + ec.message();
  } else {
    return "";
  }
  return "{\"code\":" + std::to_string(status) + ",\"status\":\"error\",\"error\":\"" + message +
         "\",\"details\":{}}";
}

//! A console directory with a few files, next to a secret that must never be served (also
//! reachable through symlinks inside the console directory). Made once per process.
class UiTree {
 public:
  static const UiTree& Get() {
    static const UiTree tree;
    return tree;
  }
  ~UiTree() {
    std::error_code ec;
    if (!base_.empty()) fs::remove_all(base_, ec);
  }

  const std::string& ui_dir() const { return ui_dir_; }
  bool IsServable(const std::string& body) const {
    return body == kIndex || body == kApp || body == kSubIndex;
  }
  static constexpr std::string_view kSecret = "SECRET-OUTSIDE-UI";

 private:
  static constexpr std::string_view kIndex = "index-html";
  static constexpr std::string_view kApp = "app-js";
  static constexpr std::string_view kSubIndex = "sub-index-html";

  UiTree() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                          "/papr-fuzz-ui-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) return;
    base_ = pattern;
    std::error_code ec;
    fs::path ui = base_ / "ui";
    fs::create_directories(ui / "sub", ec);
    fs::create_directories(base_ / "private", ec);
    Write(ui / "index.html", kIndex);
    Write(ui / "app.js", kApp);
    Write(ui / "sub" / "index.html", kSubIndex);
    Write(base_ / "private" / "index.html", kSecret);
    Write(base_ / "secret.txt", kSecret);
    Write(base_ / "ui-secret.html", kSecret);  // shares the "ui" prefix
    fs::create_directory_symlink("../private", ui / "escape", ec);
    fs::create_symlink("../secret.txt", ui / "link.js", ec);
    fs::create_symlink("/etc/passwd", ui / "passwd", ec);
    ui_dir_ = ui.string();
  }
  static void Write(const fs::path& path, std::string_view text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
  }

  fs::path base_;
  std::string ui_dir_;
};

// PercentDecode never grows its input and leaves text without escapes alone.
std::string CheckPercentDecode(std::string_view s) {
  for (bool plus_is_space : {false, true}) {
    std::string decoded = net::PercentDecode(s, plus_is_space);
    if (decoded.size() > s.size()) return "PercentDecode grew its input";
    bool plain = s.find('%') == std::string_view::npos &&
                 (!plus_is_space || s.find('+') == std::string_view::npos);
    if (plain && decoded != s) return "PercentDecode changed text without escapes";
  }
  return "";
}

std::string CheckQuery(const net::HttpRequest& req) {
  if (std::string f = CheckPercentDecode(req.query); !f.empty()) return f;
  for (std::string_view name : kRouterParams) {
    std::string value;
    if (!req.QueryParam(name, &value)) continue;
    if (value.size() > req.query.size()) return "query parameter value longer than the query";
    int64_t n = 0;  // as IntParam in api/router.cc
    (void)std::from_chars(value.data(), value.data() + value.size(), n);
  }
  // The first parameter of the query is always found, with its decoded value.
  std::string_view first = std::string_view(req.query).substr(0, req.query.find('&'));
  if (first.empty()) return "";
  size_t eq = first.find('=');
  std::string key = net::PercentDecode(first.substr(0, eq), true);
  std::string expected =
      eq == std::string_view::npos ? "" : net::PercentDecode(first.substr(eq + 1), true);
  std::string value = "unset";
  if (!req.QueryParam(key, &value)) return "QueryParam misses the query's first parameter";
  if (value != expected) return "QueryParam gives another value for the first parameter";
  return "";
}

// Authenticator against an independent reading of its rule: X-API-Key, else
// "Authorization: Bearer KEY"; the first configured entry with that key wins.
std::string CheckAuth(const net::HttpRequest& req) {
  static const std::vector<config::ApiKey> kKeys = {
      {"key-alice", "alice"}, {"key-bob", "bob"}, {"key-alice", "mallory"}, {"B", "short"}};
  static const api::Authenticator kAuth(kKeys);
  std::string_view presented = req.Header("x-api-key");
  std::string_view authorization = req.Header("authorization");
  if (presented.empty() && authorization.size() > 7 && authorization.starts_with("Bearer ")) {
    presented = authorization.substr(7);
  }
  std::optional<std::string> expected;
  for (const auto& key : kKeys) {
    if (!presented.empty() && key.key == presented) {
      expected = key.user_id;
      break;
    }
  }
  if (kAuth.Authenticate(req) != expected) return "Authenticator disagrees with its rule";
  return "";
}

std::string CheckStaticFiles(const net::HttpRequest& req) {
  if (req.method != "GET" || !req.path.starts_with("/ui/")) return "";
  const UiTree& tree = UiTree::Get();
  if (tree.ui_dir().empty()) return "";  // no temp dir: nothing to check
  static const api::StaticFiles kFiles(tree.ui_dir());
  std::optional<net::HttpResponse> served = kFiles.Serve(req.path.substr(4));
  if (served && !tree.IsServable(served->body)) {
    return "StaticFiles served a file outside the console directory for " + req.path;
  }
  return "";
}

// Session::OnHeader's Transfer-Encoding rule.
bool FramingAllowed(const http::request<http::string_body>& msg) {
  std::vector<std::string_view> codings;
  for (const auto& field : msg) {
    if (field.name() == http::field::transfer_encoding) codings.push_back(field.value());
  }
  bool has_length = msg.find(http::field::content_length) != msg.end();
  return net::CheckTransferEncoding(codings, has_length).ok();
}

// A request the server handles is framed one way only: chunked alone, or a length, or none.
std::string CheckFraming(const net::HttpRequest& req) {
  std::string codings;  // every Transfer-Encoding value, list separators and spaces dropped
  bool has_te = false;
  for (const auto& [name, value] : req.headers) {
    if (name != "transfer-encoding") continue;
    has_te = true;
    for (char c : value) {
      if (c != ',' && c != ' ' && c != '\t') codings += papr::AsciiLower(c);
    }
  }
  if (!has_te) return "";
  if (!req.Header("content-length").empty()) return "handled a request with TE and Content-Length";
  if (codings != "chunked") return "handled a request with Transfer-Encoding " + codings;
  return "";
}

std::string CheckRequest(const net::HttpRequest& req) {
  for (const auto& [name, value] : req.headers) {
    if (name != papr::AsciiLower(name)) return "header name not lowercase";
  }
  if (req.path.size() > req.target.size()) return "decoded path longer than the target";
  for (auto check : {CheckFraming, CheckQuery, CheckAuth, CheckStaticFiles}) {
    if (std::string f = check(req); !f.empty()) return f;
  }
  return "";
}

//! What the server made of one connection: its requests, and what ended it.
struct ConnectionTrace {
  std::vector<net::HttpRequest> requests;
  std::string end;  // the read error's message, or "close" for Connection: close

  // The same requests. Which error ends the connection may differ with the pieces the bytes
  // arrive in (Beast reports a bad header line it has whole as "bad field", one whose end it
  // is still waiting for when the peer closes as "partial message"); it is not compared.
  bool SameRequests(const ConnectionTrace& o) const {
    if (requests.size() != o.requests.size()) return false;
    for (size_t i = 0; i < requests.size(); ++i) {
      const auto &a = requests[i], &b = o.requests[i];
      if (a.method != b.method || a.target != b.target || a.headers != b.headers ||
          a.body != b.body) {
        return false;
      }
    }
    return true;
  }
};

// Session's loop: read a request; on an error answer (or close) and stop; else handle it and
// go on while the connection is kept alive.
std::string ServeConnection(std::string_view input, size_t chunk, ConnectionTrace* trace) {
  static const uint64_t kBodyLimit = net::HttpServerOptions().max_body_bytes;
  FakeConnection conn(input, chunk);
  simdjson::dom::parser json;
  while (trace->requests.size() < kMaxRequestsPerConnection) {
    Parser parser;
    parser.body_limit(kBodyLimit);
    parser.header_limit(kHeaderLimit);
    std::string_view head;
    if (!conn.ReadHead(&head)) {
      trace->end = "no whole head";
      return "";
    }
    if (!net::CheckHeadBytes(head).ok()) {  // Session::OnHeadBytes: 400 and close
      trace->end = "framing";
      return "";
    }
    beast::error_code ec = conn.ReadRequest(parser);
    if (conn.stalled()) return "the Beast parser stopped making progress";
    if (parser.is_header_done() && !FramingAllowed(parser.get())) {  // Session::OnHeader
      trace->end = "framing";
      return "";
    }
    if (ec) {
      std::string body = ErrorBodyFor(ec);
      simdjson::dom::element doc;
      if (!body.empty() && json.parse(body).get(doc) != simdjson::SUCCESS) {
        return "error answer is not valid JSON: " + body;
      }
      trace->end = ec.message();
      return "";
    }
    bool keep_alive = parser.get().keep_alive();
    trace->requests.push_back(Extract(parser.get()));
    if (std::string f = CheckRequest(trace->requests.back()); !f.empty()) return f;
    if (!keep_alive) {
      trace->end = "close";
      return "";
    }
  }
  return "";
}

}  // namespace

std::string CheckHttpRequest(std::string_view input) {
  ConnectionTrace whole;
  if (std::string f = ServeConnection(input, input.size() + 1, &whole); !f.empty()) return f;
  // The same bytes arriving in small pieces must give the same requests.
  ConnectionTrace pieces;
  size_t chunk = 1 + input.size() % 7;
  if (std::string f = ServeConnection(input, chunk, &pieces); !f.empty()) return f;
  if (!whole.SameRequests(pieces)) {
    return "reading in pieces of " + std::to_string(chunk) + " bytes gives other requests (" +
           std::to_string(pieces.requests.size()) + ", ended by '" + pieces.end + "') than at once (" +
           std::to_string(whole.requests.size()) + ", ended by '" + whole.end + "')";
  }
  return "";
}

}  // namespace papr::fuzz
