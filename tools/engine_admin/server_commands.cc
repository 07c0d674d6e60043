// Server mode of the write commands: terminate, cancel, signal and retry as one request to
// the running server's admin endpoints (POST /v1/admin/workflows/{id}/{action}, see
// API.md), authenticated with the API key; the key's user must own the workflow.

#include <cctype>
#include <initializer_list>
#include <string>

#include <simdjson.h>

#include "common/json_writer.h"
#include "net/http_client.h"
#include "tools/engine_admin/write_report.h"

namespace papr::engine_admin {
namespace {

constexpr int kTimeoutMs = 60000;  // the server waits up to 30 s for the engine to record

// `id` for a URL path: unreserved bytes and '/' (chunk ids "root/chunk-0") stay, the rest
// are percent-encoded (the server decodes the path).
std::string PathEscape(const std::string& id) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : id) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string BaseUrl(const std::string& server_url) {
  std::string base = server_url;
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  return base;
}

// The request body of `flags.command`.
std::string RequestBody(const Flags& flags) {
  JsonWriter w;
  w.BeginObject();
  if (flags.reason)
    w.Field("reason", *flags.reason);
  if (flags.command == "signal") {
    w.Field("name", flags.args[1]);
    if (!flags.input.empty())
      w.FieldRaw("input", flags.input);
  }
  w.EndObject();
  return w.Take();
}

//! A parsed JSON answer of the server. Not thread-safe.
class Answer {
 public:
  Status Parse(const std::string& body) {
    if (parser_.parse(body).get(root_) != simdjson::SUCCESS) {
      return Status::Internal("the server answered invalid JSON: " + body.substr(0, 200));
    }
    return Status::Ok();
  }
  std::string Str(std::initializer_list<const char*> path) const {
    std::string_view v;
    return Find(path).get_string().get(v) == simdjson::SUCCESS ? std::string(v) : "";
  }
  int64_t Int(std::initializer_list<const char*> path) const {
    int64_t v = 0;
    return Find(path).get_int64().get(v) == simdjson::SUCCESS ? v : 0;
  }
  bool Bool(std::initializer_list<const char*> path) const {
    bool v = false;
    return Find(path).get_bool().get(v) == simdjson::SUCCESS && v;
  }

 private:
  simdjson::simdjson_result<simdjson::dom::element> Find(
      std::initializer_list<const char*> path) const {
    simdjson::simdjson_result<simdjson::dom::element> e{simdjson::dom::element(root_)};
    for (const char* key : path)
      e = e[key];
    return e;
  }
  simdjson::dom::parser parser_;
  simdjson::dom::element root_;
};

// One call; a non-2xx answer becomes a Status carrying the server's error message.
Result<std::string> Call(const Flags& flags, const std::string& method, const std::string& path,
                         const std::string& body) {
  net::HttpClientRequest req;
  req.method = method;
  req.url = BaseUrl(flags.server_url) + path;
  req.headers = {{"x-api-key", flags.api_key}, {"content-type", "application/json"}};
  req.body = body;
  req.timeout_ms = kTimeoutMs;
  auto resp = net::HttpCall(req);
  if (!resp.ok()) {
    return Status(resp.status().code(), "cannot reach the server at " + flags.server_url + ": " +
                                            resp.status().message());
  }
  if (resp->status >= 200 && resp->status < 300)
    return std::move(resp->body);
  Answer error;
  std::string message = error.Parse(resp->body).ok() ? error.Str({"error"}) : "";
  if (message.empty())
    message = resp->body.substr(0, 200);
  std::string text = "the server answered " + std::to_string(resp->status) + ": " + message;
  switch (resp->status) {
    case 401:
      return Status::Unauthenticated(text + " (check --api-key)");
    case 404:
      return Status::NotFound(text);
    case 409:
      return Status::FailedPrecondition(text);
    case 400:
      return Status::InvalidArgument(text);
    default:
      return Status::Unavailable(text);
  }
}

WriteReport ServerReport(const Flags& flags) {
  WriteReport r;
  r.mode = "server";
  r.mode_detail = "(through " + flags.server_url + "; the API key's user must own the workflow)";
  r.mode_fields = {{"server", flags.server_url}};
  r.command = flags.command;
  r.workflow_id = flags.args[0];
  return r;
}

std::string AdminPath(const Flags& flags, const std::string& action) {
  return "/v1/admin/workflows/" + PathEscape(flags.args[0]) + "/" + action;
}

Result<CommandOutput> Retry(const Flags& flags) {
  ASSIGN_OR_RETURN(std::string body, Call(flags, "POST", AdminPath(flags, "retry"), ""));
  Answer accepted;
  RETURN_IF_ERROR(accepted.Parse(body));
  WriteReport r = ServerReport(flags);
  r.new_batch_id = accepted.Str({"batch_id"});
  r.retried = accepted.Int({"details", "memories"});
  r.existing = accepted.Bool({"details", "existing"});
  r.note = "its status: GET " + accepted.Str({"details", "status_url"});
  // The retried batch's own state, from its history's header.
  ASSIGN_OR_RETURN(std::string history,
                   Call(flags, "GET", AdminPath(flags, "history") + "?limit=1", ""));
  Answer h;
  RETURN_IF_ERROR(h.Parse(history));
  r.status = h.Str({"status"});
  return RenderWriteReport(flags, r);
}

}  // namespace

Result<CommandOutput> RunThroughServer(const Flags& flags) {
  if (flags.command == "retry")
    return Retry(flags);
  ASSIGN_OR_RETURN(std::string body,
                   Call(flags, "POST", AdminPath(flags, flags.command), RequestBody(flags)));
  Answer answer;
  RETURN_IF_ERROR(answer.Parse(body));
  WriteReport r = ServerReport(flags);
  r.status = answer.Str({"status"});
  r.cancel_requested = answer.Bool({"cancel_requested"});
  if (flags.command == "cancel" && r.status == "running") {
    r.note =
        "the cancel request is recorded; the workflow winds down (its in-flight activities "
        "finish first)";
  }
  return RenderWriteReport(flags, r);
}

}  // namespace papr::engine_admin
