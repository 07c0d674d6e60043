#include "tools/webhook_receiver/receiver.h"

#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>

#include <simdjson.h>

#include "common/crypto.h"
#include "common/json_writer.h"
#include "net/http_server.h"

namespace papr::tools {
namespace {

constexpr std::string_view kSecretPrefix = "whsec_";

net::HttpResponse Answer(int status, std::string_view message) {
  JsonWriter w;
  w.BeginObject().Field("status", status).Field("message", message).EndObject();
  return net::HttpResponse::Json(status, w.Take());
}

int HttpStatusOf(const Status& s) { return s.code() == StatusCode::kUnauthenticated ? 401 : 400; }

// The body as one line of JSON: as received when it has no line breaks, else minified.
// False if it is not JSON.
bool JsonLineOf(const std::string& body, std::string* out) {
  simdjson::dom::parser parser;
  if (parser.parse(body).error()) return false;
  if (body.find_first_of("\r\n") == std::string::npos) {
    *out = body;
    return true;
  }
  out->resize(body.size());
  size_t len = 0;
  if (simdjson::minify(body.data(), body.size(), out->data(), len)) return false;
  out->resize(len);
  return true;
}

}  // namespace

Result<std::string> WebhookKeyFromSecret(std::string_view secret) {
  if (secret.substr(0, kSecretPrefix.size()) != kSecretPrefix) return std::string(secret);
  std::string key;
  if (!Base64Decode(secret.substr(kSecretPrefix.size()), &key)) {
    return Status::InvalidArgument("secret has the whsec_ prefix but is not base64");
  }
  return key;
}

Status VerifyWebhook(std::string_view key, std::string_view id, std::string_view timestamp,
                     std::string_view signature_header, std::string_view body, int64_t now_seconds,
                     int64_t tolerance_seconds) {
  if (id.empty()) return Status::InvalidArgument("missing webhook-id");
  int64_t ts = 0;
  auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ts);
  if (timestamp.empty() || ec != std::errc() || end != timestamp.data() + timestamp.size()) {
    return Status::InvalidArgument("missing or malformed webhook-timestamp");
  }
  if (tolerance_seconds >= 0 &&
      (ts < now_seconds - tolerance_seconds || ts > now_seconds + tolerance_seconds)) {
    return Status::Unauthenticated("webhook-timestamp outside the tolerance");
  }
  if (key.empty()) return Status::Ok();
  if (signature_header.empty()) return Status::Unauthenticated("missing webhook-signature");
  std::string signed_content;
  signed_content.reserve(id.size() + timestamp.size() + body.size() + 2);
  signed_content.append(id).append(".").append(timestamp).append(".").append(body);
  const std::string expected = Base64Encode(HmacSha256(key, signed_content));
  bool match = false;
  size_t pos = 0;
  while (pos <= signature_header.size()) {
    size_t space = signature_header.find(' ', pos);
    if (space == std::string_view::npos) space = signature_header.size();
    std::string_view entry = signature_header.substr(pos, space - pos);
    pos = space + 1;
    if (entry.substr(0, 3) != "v1,") continue;  // other versions (v1a, ...) are not ours
    match = ConstantTimeEquals(entry.substr(3), expected) || match;
  }
  if (!match) return Status::Unauthenticated("no matching v1 signature");
  return Status::Ok();
}

struct WebhookReceiver::Rep {
  ReceiverOptions options;
  const Clock* clock;
  std::string key;
  std::unique_ptr<net::HttpServer> server;
  std::FILE* out = nullptr;

  mutable std::mutex mu;
  mutable std::condition_variable changed;
  std::vector<ReceivedRequest> requests;
  std::set<std::string> accepted_ids;
  int verified_count = 0;  // verified, non-duplicate deliveries so far
  bool stopping = false;

  //! Requests held back by hang_first, answered by `hang_thread` at `due`.
  struct Held {
    std::chrono::steady_clock::time_point due;
    size_t index;
    net::Responder respond;
  };
  std::vector<Held> held;
  std::thread hang_thread;

  void Handle(net::HttpRequest req, net::Responder respond);
  // Appends the out line; REQUIRES: mu held.
  Status Append(const ReceivedRequest& r, const std::string& body_line);
  void RunHangThread();
  // Records the answer of requests[index]; REQUIRES: mu held.
  void Finish(size_t index, int status, std::string error) {
    ReceivedRequest& r = requests[index];
    r.status = status;
    r.error = std::move(error);
    changed.notify_all();
    if (options.log_requests) {
      std::fprintf(stderr, "webhook-receiver: %d webhook-id=%s%s%s%s\n", status,
                   r.webhook_id.c_str(), r.duplicate ? " (duplicate)" : "",
                   r.error.empty() ? "" : ": ", r.error.c_str());
    }
  }
};

Status WebhookReceiver::Rep::Append(const ReceivedRequest& r, const std::string& body_line) {
  if (out == nullptr) return Status::Ok();
  JsonWriter w;
  w.BeginObject().Field("webhook_id", r.webhook_id);
  int64_t ts = 0;
  std::from_chars(r.timestamp.data(), r.timestamp.data() + r.timestamp.size(), ts);
  w.Field("timestamp", ts).Field("received_at", FormatRfc3339(r.received_at_ms));
  w.FieldRaw("body", body_line).EndObject();
  std::string line = w.Take() + "\n";
  if (std::fwrite(line.data(), 1, line.size(), out) != line.size() || std::fflush(out) != 0) {
    return Status::IoError("cannot append to " + options.out_path);
  }
  return Status::Ok();
}

void WebhookReceiver::Rep::Handle(net::HttpRequest req, net::Responder respond) {
  ReceivedRequest r;
  r.received_at_ms = clock->NowMillis();
  r.webhook_id = std::string(req.Header("webhook-id"));
  r.timestamp = std::string(req.Header("webhook-timestamp"));
  r.signature = std::string(req.Header("webhook-signature"));
  for (const auto& [name, value] : req.headers) r.has_signature |= name == "webhook-signature";
  r.content_type = std::string(req.Header("content-type"));
  r.body = std::move(req.body);

  std::unique_lock lock(mu);
  const size_t index = requests.size();
  requests.push_back(r);
  auto reply = [&](int status, std::string message) {
    Finish(index, status, status < 300 ? "" : message);
    lock.unlock();
    respond(Answer(status, message));
  };
  if (stopping) return reply(503, "stopping");
  if (req.method != "POST") return reply(405, "only POST is accepted");
  Status verdict = VerifyWebhook(key, r.webhook_id, r.timestamp, r.signature, r.body,
                                 r.received_at_ms / 1000, options.tolerance_seconds);
  if (!verdict.ok()) return reply(HttpStatusOf(verdict), verdict.message());
  requests[index].verified = true;
  if (accepted_ids.count(r.webhook_id) > 0) {
    requests[index].duplicate = true;
    return reply(200, "duplicate of an accepted delivery");
  }
  std::string body_line;
  if (!JsonLineOf(r.body, &body_line)) return reply(400, "body is not JSON");
  const int ordinal = verified_count++;
  if (ordinal < options.hang_first) {
    requests[index].hung = true;
    held.push_back({std::chrono::steady_clock::now() + std::chrono::milliseconds(options.hang_ms),
                    index, std::move(respond)});
    changed.notify_all();
    return;
  }
  if (ordinal < options.fail_first) {
    Finish(index, options.fail_status, "failing on purpose (--fail-first)");
    lock.unlock();
    net::HttpResponse answer = Answer(options.fail_status, "failing on purpose");
    if (options.fail_retry_after_seconds >= 0) {
      answer.headers.emplace_back("retry-after", std::to_string(options.fail_retry_after_seconds));
    }
    return respond(std::move(answer));
  }
  if (Status s = Append(r, body_line); !s.ok()) return reply(500, s.message());
  accepted_ids.insert(r.webhook_id);
  return reply(200, "delivered");
}

void WebhookReceiver::Rep::RunHangThread() {
  std::unique_lock lock(mu);
  while (true) {
    auto now = std::chrono::steady_clock::now();
    std::vector<net::Responder> due;
    for (auto it = held.begin(); it != held.end();) {
      if (stopping || it->due <= now) {
        Finish(it->index, stopping ? 503 : 504, "held back on purpose (--hang-first)");
        due.push_back(std::move(it->respond));
        it = held.erase(it);
      } else {
        ++it;
      }
    }
    if (!due.empty()) {
      const int status = stopping ? 503 : 504;
      lock.unlock();
      for (auto& respond : due) respond(Answer(status, "held back on purpose"));
      lock.lock();
      continue;
    }
    if (stopping) return;
    auto next = now + std::chrono::hours(1);
    for (const auto& h : held) next = std::min(next, h.due);
    changed.wait_until(lock, next);
  }
}

WebhookReceiver::WebhookReceiver(ReceiverOptions options, const Clock* clock) : rep_(new Rep) {
  rep_->options = std::move(options);
  rep_->clock = clock;
}

WebhookReceiver::~WebhookReceiver() { Stop(); }

Result<int> WebhookReceiver::Start() {
  Rep* rep = rep_.get();
  const ReceiverOptions& o = rep->options;
  if (o.fail_status < 100 || o.fail_status > 599) {
    return Status::InvalidArgument("fail status must be an HTTP status (100..599)");
  }
  if (o.fail_first < 0 || o.hang_first < 0 || o.hang_ms < 0) {
    return Status::InvalidArgument("fail-first, hang-first and hang-ms must be >= 0");
  }
  ASSIGN_OR_RETURN(rep->key, WebhookKeyFromSecret(o.secret));
  if (!o.secret.empty() && rep->key.empty()) {
    return Status::InvalidArgument("the secret decodes to an empty key");
  }
  if (!o.out_path.empty()) {
    rep->out = std::fopen(o.out_path.c_str(), "a");
    if (rep->out == nullptr) return Status::IoError("cannot open " + o.out_path);
  }
  net::HttpServerOptions server_options;
  server_options.listen = o.listen;
  server_options.io_threads = 2;
  rep->server = std::make_unique<net::HttpServer>(
      server_options, [rep](net::HttpRequest req, net::Responder respond) {
        rep->Handle(std::move(req), std::move(respond));
      });
  ASSIGN_OR_RETURN(int port, rep->server->Start());
  rep->hang_thread = std::thread([rep] { rep->RunHangThread(); });
  return port;
}

void WebhookReceiver::Stop() {
  {
    std::lock_guard lock(rep_->mu);
    if (rep_->stopping) return;
    rep_->stopping = true;
    rep_->changed.notify_all();
  }
  // Held requests are answered before the server (which owns their connections) goes away.
  if (rep_->hang_thread.joinable()) rep_->hang_thread.join();
  if (rep_->server) rep_->server->Stop(/*drain_ms=*/2000);
  if (rep_->out != nullptr) {
    std::fclose(rep_->out);
    rep_->out = nullptr;
  }
}

int WebhookReceiver::port() const { return rep_->server ? rep_->server->port() : 0; }

std::string WebhookReceiver::Url(std::string_view path) const {
  const std::string& listen = rep_->options.listen;
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(port()) + std::string(path);
}

std::vector<ReceivedRequest> WebhookReceiver::Requests() const {
  std::lock_guard lock(rep_->mu);
  return rep_->requests;
}

std::vector<ReceivedRequest> WebhookReceiver::Deliveries() const {
  std::lock_guard lock(rep_->mu);
  std::vector<ReceivedRequest> out;
  for (const auto& r : rep_->requests) {
    if (r.verified && !r.duplicate && !r.hung && r.status >= 200 && r.status < 300) {
      out.push_back(r);
    }
  }
  return out;
}

bool WebhookReceiver::WaitForRequests(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(rep_->mu);
  return rep_->changed.wait_for(lock, timeout, [&] { return rep_->requests.size() >= n; });
}

bool WebhookReceiver::WaitForDeliveries(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(rep_->mu);
  return rep_->changed.wait_for(lock, timeout, [&] {
    size_t count = 0;
    for (const auto& r : rep_->requests) {
      count += r.verified && !r.duplicate && !r.hung && r.status >= 200 && r.status < 300;
    }
    return count >= n;
  });
}

}  // namespace papr::tools
