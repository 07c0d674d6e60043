#include "api/router.h"

#include <charconv>
#include <functional>
#include <mutex>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "api/api_error.h"
#include "api/metrics.h"
#include "api/request_checks.h"
#include "api/request_decoder.h"
#include "api/response_json.h"
#include "api/static_files.h"
#include "common/crypto.h"
#include "common/log.h"

namespace papr::api {
namespace {

using net::HttpRequest;
using net::HttpResponse;
using net::Responder;

constexpr std::string_view kMemoryPrefix = "/v1/memory/";
constexpr std::string_view kBatchPrefix = "/v1/memory/batch/";
constexpr std::string_view kStatusPrefix = "/v1/memory/batch/status/";

HttpResponse ErrorResponse(const ApiError& e) {
  HttpResponse r = HttpResponse::Json(e.status, ErrorBody(e));
  if (e.retry_after_seconds > 0) {
    r.headers.emplace_back("Retry-After", std::to_string(e.retry_after_seconds));
  }
  return r;
}

HttpResponse StatusError(const Status& s) { return ErrorResponse(ApiError::FromStatus(s)); }

HttpResponse SimpleError(int code, std::string message, std::string details = "{}") {
  return ErrorResponse(ApiError{code, std::move(message), std::move(details)});
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Parses an integer query parameter in [lo, hi]; absent -> fallback.
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


}  // namespace

struct Router::Rep {
  RouterDeps deps;
  Authenticator auth;
  boost::asio::thread_pool pool;
  std::atomic<bool> stopping{false};
  Metrics metrics;
  StaticFiles ui;

  explicit Rep(RouterDeps d)
      : deps(d),
        auth(d.config->auth.api_keys),
        pool(static_cast<size_t>(std::max<int64_t>(1, d.config->server.handler_threads))),
        ui(d.config->server.ui_dir) {}

  // Runs on the pool. Either answers through `respond` or hands it on (?wait=).
  void Dispatch(HttpRequest req, Responder respond);
  HttpResponse Route(const HttpRequest& req, const std::string& user, Responder* respond);

  HttpResponse AddMemory(const HttpRequest& req, const std::string& user);
  HttpResponse GetMemory(const std::string& user, const std::string& id);
  HttpResponse DeleteMemory(const std::string& user, const std::string& id);
  HttpResponse Search(const HttpRequest& req, const std::string& user);
  HttpResponse SubmitBatch(const HttpRequest& req, const std::string& user, Responder* respond);
  HttpResponse BatchStatus(const std::string& user, const std::string& id);
  HttpResponse GetUsage(const std::string& user);
  HttpResponse ClusterView();
  HttpResponse WorkflowHistory(const HttpRequest& req, const std::string& user,
                               const std::string& id);
  HttpResponse BatchEvents(const std::string& user, const std::string& id, Responder* respond);
  struct ProgressStream;
  void StreamProgress(std::shared_ptr<ProgressStream> ps);
  std::mutex streams_mu;
  std::vector<std::weak_ptr<net::ResponseStream>> streams;  // closed at shutdown
  HttpResponse BatchResults(const HttpRequest& req, const std::string& user,
                            const std::string& id);
  HttpResponse ListBatches(const HttpRequest& req, const std::string& user);
  HttpResponse CancelBatch(const std::string& user, const std::string& id);
  // `extra_details` (optional) adds fields to "details".
  HttpResponse Accepted(const std::string& user, const workflows::SubmitOutcome& outcome,
                        const std::string& webhook_url,
                        const std::function<void(JsonWriter&)>& extra_details = nullptr);
  HttpResponse AdminAction(const HttpRequest& req, const std::string& user,
                           const std::string& id, const std::string& action);
  HttpResponse AdminRetry(const std::string& user, const std::string& id);
  void WaitForBatch(const std::string& user, workflows::SubmitOutcome outcome,
                    std::string webhook_url, int64_t wait_seconds, Responder respond);
  std::optional<HttpResponse> FinalBatchResponse(const std::string& user,
                                                 const std::string& batch_id);
  DecodeLimits Limits() const;
};

DecodeLimits Router::Rep::Limits() const {
  const auto& c = *deps.config;
  DecodeLimits limits;
  limits.max_content_bytes = c.limits.max_content_bytes;
  limits.max_batch_size = c.features.max_batch_size;
  limits.fields = {c.limits.max_metadata_bytes,        c.limits.max_metadata_keys,
                   c.limits.max_metadata_depth,        c.limits.max_metadata_string_bytes,
                   c.limits.max_context_items,         c.limits.max_context_item_bytes};
  // OSS hybrid: an open-source config that turns the engine on gets the engine's limit.
  if (c.edition == "opensource" && c.features.has_temporal) {
    limits.max_batch_size = c.features.max_batch_size_with_temporal;
  }
  limits.upgrade_info = c.messaging.batch_limit_message;
  limits.upgrade_url = c.messaging.upgrade_url;
  limits.max_retry_attempts = c.processing.retry.maximum_attempts;
  return limits;
}

void Router::Rep::Dispatch(HttpRequest req, Responder inner) {
  auto started = std::chrono::steady_clock::now();
  Responder respond = [this, inner = std::move(inner), started, method = req.method,
                       route = Metrics::RouteLabel(req.path)](HttpResponse r) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    metrics.CountRequest(method, route, r.status, secs);
    inner(std::move(r));
  };
  const std::string& path = req.path;
  if (path == "/metrics") {
    std::string text = metrics.Render() + deps.batches->MetricsText();
    if (deps.more_metrics) text += deps.more_metrics();
    HttpResponse r = HttpResponse::Json(200, std::move(text));
    r.content_type = "text/plain; version=0.0.4";
    return respond(std::move(r));
  }
  if (path == "/healthz") return respond(HttpResponse::Json(200, R"({"status":"ok"})"));
  if (path == "/readyz") {
    bool ready = deps.ready == nullptr || deps.ready->load();
    if (Status reachable = deps.database_reachable ? deps.database_reachable() : Status::Ok();
        !reachable.ok()) {
      return respond(SimpleError(503, "not ready: the database does not answer (" +
                                          reachable.message() + ")",
                                 R"({"reads":false,"writes":false})"));
    }
    if (ready && deps.writes_refused && deps.writes_refused()) {
      // Reads are still served; a load balancer should send writes elsewhere.
      return respond(SimpleError(503, "not ready: writes are refused after a storage write error "
                                      "(disk full?); reads are served",
                                 R"({"reads":true,"writes":false})"));
    }
    return respond(ready ? HttpResponse::Json(200, R"({"status":"ready"})")
                         : SimpleError(503, "recovery in progress"));
  }
  if (path == "/" || path == "/ui") {
    HttpResponse r = HttpResponse::Json(302, "");
    r.headers.emplace_back("Location", "/ui/");
    return respond(std::move(r));
  }
  if (StartsWith(path, "/ui/")) {
    // The console's static files need no key: the page asks for one and sends it to /v1.
    auto file = req.method == "GET" ? ui.Serve(path.substr(4)) : std::nullopt;
    return respond(file ? std::move(*file) : SimpleError(404, "no file " + path));
  }
  if (!StartsWith(path, "/v1/")) return respond(SimpleError(404, "no route for " + path));
  auto user = auth.Authenticate(req);
  if (!user) {
    return respond(SimpleError(401, "missing or unknown API key (send X-API-Key or "
                                    "Authorization: Bearer)"));
  }
  // Every /v1 body is JSON: a body sent as anything else (curl's default form type,
  // text/plain) is refused before it is parsed.
  if (!req.body.empty() && !IsJsonContentType(req.Header("content-type"))) {
    JsonWriter d;
    d.BeginObject().Field("field", "Content-Type").Field("accepted", "application/json");
    d.Field("received", req.Header("content-type").substr(0, 200)).EndObject();
    return respond(SimpleError(415, "Content-Type must be application/json (charset utf-8 if given)",
                               d.Take()));
  }
  // Until recovery has resumed every open batch, writes could race it (a second run of one
  // batch, a cancel nobody records): they are refused with Retry-After. Reads are served.
  bool ready = deps.ready == nullptr || deps.ready->load();
  if (!ready && req.method != "GET" && req.method != "HEAD") {
    return respond(ErrorResponse(
        ApiError{503, "the server is recovering open batches; retry shortly", "{}", 1}));
  }
  HttpResponse response = Route(req, *user, &respond);
  if (respond) respond(std::move(response));  // a handler that kept `respond` answers later
}

HttpResponse Router::Rep::Route(const HttpRequest& req, const std::string& user,
                                Responder* respond) {
  const std::string& p = req.path;
  const std::string& m = req.method;
  auto method_not_allowed = [&](const char* allowed) {
    HttpResponse r = SimpleError(405, "method " + m + " not allowed on " + p);
    r.headers.emplace_back("Allow", allowed);
    return r;
  };
  if (p == "/v1/memory") return m == "POST" ? AddMemory(req, user) : method_not_allowed("POST");
  if (p == "/v1/usage") return m == "GET" ? GetUsage(user) : method_not_allowed("GET");
  if (p == "/v1/admin/cluster") return m == "GET" ? ClusterView() : method_not_allowed("GET");
  constexpr std::string_view kAdminWorkflows = "/v1/admin/workflows/";
  if (StartsWith(p, kAdminWorkflows) && p.size() > kAdminWorkflows.size() + 8 &&
      p.substr(p.size() - 8) == "/history") {
    std::string id = p.substr(kAdminWorkflows.size(), p.size() - kAdminWorkflows.size() - 8);
    return m == "GET" ? WorkflowHistory(req, user, id) : method_not_allowed("GET");
  }
  if (StartsWith(p, kAdminWorkflows)) {
    // The id is everything up to the last '/' (chunk ids contain one: "root/chunk-0").
    std::string rest = p.substr(kAdminWorkflows.size());
    size_t slash = rest.rfind('/');
    std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
    bool known = action == "terminate" || action == "cancel" || action == "signal" ||
                 action == "retry";
    if (!known || slash == 0) return SimpleError(404, "no route for " + p);
    return m == "POST" ? AdminAction(req, user, rest.substr(0, slash), action)
                       : method_not_allowed("POST");
  }
  if (p == "/v1/memory/search") return m == "POST" ? Search(req, user) : method_not_allowed("POST");
  if (p == "/v1/memory/batch") {
    if (m == "POST") return SubmitBatch(req, user, respond);
    if (m == "GET") return ListBatches(req, user);
    return method_not_allowed("GET, POST");
  }
  if (StartsWith(p, kStatusPrefix)) {
    std::string id = p.substr(kStatusPrefix.size());
    constexpr std::string_view kEvents = "/events";
    if (id.size() > kEvents.size() && id.substr(id.size() - kEvents.size()) == kEvents) {
      id.resize(id.size() - kEvents.size());
      if (id.find('/') != std::string::npos) return SimpleError(404, "no route for " + p);
      return m == "GET" ? BatchEvents(user, id, respond) : method_not_allowed("GET");
    }
    if (id.empty() || id.find('/') != std::string::npos) return SimpleError(404, "no route for " + p);
    return m == "GET" ? BatchStatus(user, id) : method_not_allowed("GET");
  }
  if (StartsWith(p, kBatchPrefix)) {
    std::string rest = p.substr(kBatchPrefix.size());
    size_t slash = rest.find('/');
    std::string id = rest.substr(0, slash);
    std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
    if (action == "results") return m == "GET" ? BatchResults(req, user, id) : method_not_allowed("GET");
    if (action == "cancel") return m == "POST" ? CancelBatch(user, id) : method_not_allowed("POST");
    return SimpleError(404, "no route for " + p);
  }
  if (StartsWith(p, kMemoryPrefix)) {
    std::string id = p.substr(kMemoryPrefix.size());
    if (id.empty() || id.find('/') != std::string::npos) return SimpleError(404, "no route for " + p);
    if (m == "GET") return GetMemory(user, id);
    if (m == "DELETE") return DeleteMemory(user, id);
    return method_not_allowed("GET, DELETE");
  }
  return SimpleError(404, "no route for " + p);
}

HttpResponse Router::Rep::AddMemory(const HttpRequest& req, const std::string& user) {
  workflows::MemoryInput input;
  ApiError error;
  if (!DecodeAddMemory(req.body, Limits(), &input, &error)) return ErrorResponse(error);
  workflows::MemoryTarget target{user, RandomUuid(), "", -1};
  auto stored = deps.processor->Process(target, input);
  if (!stored.ok()) return StatusError(stored.status());
  JsonWriter w;
  w.BeginObject().Field("code", 200).Field("status", "success").Key("data").BeginArray();
  WriteAddMemoryItem(w, stored->id, stored->created_at_ms);
  w.EndArray().EndObject();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse Router::Rep::GetMemory(const std::string& user, const std::string& id) {
  auto memory = deps.memories->Get(user, id);
  if (!memory.ok()) return StatusError(memory.status());
  JsonWriter w;
  w.BeginObject().Field("code", 200).Field("status", "success").Key("data").BeginObject();
  w.Key("memories").BeginArray();
  WriteMemory(w, *memory);
  w.EndArray().Key("nodes").BeginArray().EndArray().EndObject().EndObject();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse Router::Rep::DeleteMemory(const std::string& user, const std::string& id) {
  Status s = deps.memories->Delete(user, id);
  if (!s.ok()) return StatusError(s);
  JsonWriter w;
  w.BeginObject().Field("code", 200).Field("status", "success");
  w.Field("message", "memory deleted").Field("memoryId", id).EndObject();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse Router::Rep::Search(const HttpRequest& req, const std::string& user) {
  SearchRequest search;
  ApiError error;
  if (!DecodeSearch(req.body, &search, &error)) return ErrorResponse(error);
  HttpResponse bad;
  const auto& limits = deps.config->limits;
  if (!IntParam(req, "max_memories", 1, limits.max_search_results, search.max_memories,
                &search.max_memories, &bad)) {
    return bad;
  }
  if (search.max_memories > limits.max_search_results) {
    JsonWriter d;
    d.BeginObject().Field("field", "max_memories").Field("limit", "limits.max_search_results");
    d.Field("max", limits.max_search_results).EndObject();
    return SimpleError(400, "max_memories must be at most " +
                                std::to_string(limits.max_search_results), d.Take());
  }
  std::optional<std::string_view> scope;
  if (!search.external_user_id.empty()) scope = search.external_user_id;
  auto found = deps.memories->Search(user, search.query, static_cast<size_t>(search.max_memories),
                                     scope);
  if (!found.ok()) return StatusError(found.status());
  JsonWriter w;
  w.BeginObject().Field("code", 200).Field("status", "success").Key("data").BeginObject();
  w.Key("memories").BeginArray();
  // Bounded answer: once the body reaches max_response_bytes, lower-ranked hits are left out.
  for (const auto& hit : *found) {
    if (w.str().size() >= static_cast<size_t>(limits.max_response_bytes)) break;
    WriteMemory(w, hit.memory, hit.score);
  }
  w.EndArray().Key("nodes").BeginArray().EndArray().EndObject().EndObject();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse Router::Rep::SubmitBatch(const HttpRequest& req, const std::string& user,
                                      Responder* respond) {
  int64_t wait_seconds = 0;
  HttpResponse bad;
  if (!IntParam(req, "wait", 0, 60, 0, &wait_seconds, &bad)) return bad;
  workflows::BatchRequest batch;
  ApiError error;
  int64_t attempted = -1;
  using Outcome = storage::UsageStore::Outcome;
  // Usage statistics are best effort: they never fail a submit.
  auto record_usage = [&](Outcome outcome) {
    if (attempted >= 0) deps.usage->RecordBatch(user, attempted, outcome).IgnoreError();
  };
  if (!DecodeBatch(req.body, Limits(), &batch, &error, &attempted)) {
    if (error.status == 413) metrics.CountBatchRejectedForSize();
    record_usage(error.status == 413 ? Outcome::kRejectedForSize : Outcome::kRefused);
    return ErrorResponse(error);
  }
  batch.user_id = user;
  batch.idempotency_key = std::string(req.Header("idempotency-key"));
  if (!batch.webhook_url.empty()) {
    Status target_ok = deps.webhooks->CheckTarget(batch.webhook_url);
    if (!target_ok.ok()) {
      record_usage(Outcome::kRefused);
      JsonWriter d;
      d.BeginObject().Field("field", "webhook_url").EndObject();
      return SimpleError(400, target_ok.message(), d.Take());
    }
  }
  std::string webhook_url = batch.webhook_url;
  auto outcome = deps.batches->Submit(std::move(batch));
  // A replayed Idempotency-Key is the same batch: usage and size metrics count it once.
  if (!outcome.ok() || !outcome->existing) {
    record_usage(outcome.ok() ? Outcome::kAccepted : Outcome::kRefused);
  }
  if (outcome.ok() && !outcome->existing) metrics.ObserveBatchSize(attempted);
  if (!outcome.ok()) {
    if (outcome.status().code() == StatusCode::kInvalidArgument) {
      return SimpleError(422, outcome.status().message());
    }
    return StatusError(outcome.status());
  }
  log::Info("batch accepted",
            {{"batch_id", outcome->batch_id}, {"workflow_id", outcome->workflow_id},
             {"memories", std::to_string(attempted)}, {"durable", outcome->durable ? "true" : "false"},
             {"existing", outcome->existing ? "true" : "false"}});
  if (wait_seconds > 0) {
    WaitForBatch(user, *outcome, webhook_url, wait_seconds, std::move(*respond));
    *respond = nullptr;
    return {};
  }
  return Accepted(user, *outcome, webhook_url);
}

HttpResponse Router::Rep::Accepted(const std::string& user,
                                   const workflows::SubmitOutcome& outcome,
                                   const std::string& webhook_url,
                                   const std::function<void(JsonWriter&)>& extra_details) {
  std::string status_url = "/v1/memory/batch/status/" + outcome.batch_id;
  // A replayed key answers with the batch's state now (it may have finished long ago).
  std::string state = "processing";
  int64_t succeeded = 0, failed = 0;
  if (outcome.existing) {
    auto current = deps.batches->GetStatus(user, outcome.batch_id);
    if (current.ok()) {
      state = workflows::BatchStateName(current->state);
      succeeded = current->succeeded;
      failed = current->failed;
    }
  }
  JsonWriter w;
  w.BeginObject().Field("code", 202).Field("status", state).Field("batch_id", outcome.batch_id);
  // Papr's BatchMemoryResponse fields: the counts so far; the items are on the results route.
  w.Field("total_processed", succeeded + failed).Field("total_successful", succeeded);
  w.Field("total_failed", failed);
  w.Key("successful").BeginArray().EndArray().Key("errors").BeginArray().EndArray();
  w.Key("details").BeginObject();
  w.Field("status", state).Field("batch_id", outcome.batch_id);
  w.Field("workflow_id", outcome.workflow_id).Field("status_url", status_url);
  w.Field("durable", outcome.durable).FieldOrNull("webhook_url", webhook_url);
  w.Field("existing", outcome.existing);
  if (extra_details) extra_details(w);
  w.EndObject().EndObject();
  HttpResponse r = HttpResponse::Json(202, w.Take());
  r.headers.emplace_back("Location", status_url);
  return r;
}

std::optional<HttpResponse> Router::Rep::FinalBatchResponse(const std::string& user,
                                                            const std::string& batch_id) {
  auto status = deps.batches->GetStatus(user, batch_id);
  if (!status.ok() || !workflows::IsTerminal(status->state)) return std::nullopt;
  std::vector<workflows::ItemResult> items;
  int64_t after = -1;
  while (true) {
    auto page = deps.batches->GetResults(user, batch_id, after, 1000);
    if (!page.ok()) return StatusError(page.status());
    items.insert(items.end(), page->results.begin(), page->results.end());
    if (!page->next_after) break;
    after = *page->next_after;
  }
  int code = 200;
  std::string body = BatchMemoryResponseBody(*status, items, &code);
  return HttpResponse::Json(code, std::move(body));
}

// Answers with the final BatchMemoryResponse when the batch ends within `wait_seconds`,
// else with the 202. Exactly one of the timer and the change listener answers.
void Router::Rep::WaitForBatch(const std::string& user, workflows::SubmitOutcome outcome,
                               std::string webhook_url, int64_t wait_seconds,
                               Responder respond) {
  struct Waiter {
    std::mutex mu;
    Responder respond;
    boost::asio::steady_timer timer;
    explicit Waiter(boost::asio::thread_pool& p) : timer(p) {}
    // Returns the responder the first time only.
    Responder Take() {
      std::lock_guard lock(mu);
      return std::exchange(respond, nullptr);
    }
  };
  auto waiter = std::make_shared<Waiter>(pool);
  waiter->respond = std::move(respond);
  waiter->timer.expires_after(std::chrono::seconds(wait_seconds));
  waiter->timer.async_wait([this, waiter, user, outcome, webhook_url](boost::system::error_code) {
    if (auto r = waiter->Take()) r(Accepted(user, outcome, webhook_url));
  });
  auto check = std::make_shared<std::function<void()>>();
  *check = [this, waiter, user, batch_id = outcome.batch_id, weak = std::weak_ptr(check)]() {
    // Runs on a worker thread of the batch service: hop to the handler pool. The posted task
    // owns `check` until it has answered or subscribed again.
    auto self = weak.lock();
    if (!self) return;
    boost::asio::post(pool, [this, waiter, user, batch_id, self] {
      if (auto final_response = FinalBatchResponse(user, batch_id)) {
        if (auto r = waiter->Take()) {
          waiter->timer.cancel();
          r(std::move(*final_response));
        }
        return;
      }
      bool pending;
      {
        std::lock_guard lock(waiter->mu);
        pending = waiter->respond != nullptr;
      }
      if (pending) deps.batches->SubscribeDone(batch_id, [self] { (*self)(); });
    });
  };
  // The listener keeps `check` alive until the batch ends or the waiter answered.
  auto holder = check;
  deps.batches->SubscribeDone(outcome.batch_id, [holder] { (*holder)(); });
}

// Batch-size usage against the edition's limits, with the upgrade recommendation when the
// user's batches do not fit (what `papr check-limits` prints).
HttpResponse Router::Rep::GetUsage(const std::string& user) {
  auto usage = deps.usage->Get(user);
  if (!usage.ok()) return StatusError(usage.status());
  const auto& c = *deps.config;
  DecodeLimits limits = Limits();
  const auto& u = *usage;
  bool over = u.batches_rejected_for_size > 0 || u.max_batch_size_attempted > limits.max_batch_size;
  JsonWriter w;
  w.BeginObject().Field("user_id", user).Field("edition", c.edition);
  w.Field("durable_batches", c.features.has_temporal);
  w.Key("limits").BeginObject().Field("max_batch_size", limits.max_batch_size);
  w.Field("max_concurrent_tasks", c.features.max_concurrent_tasks).EndObject();
  w.Key("usage").BeginObject().Field("batches_attempted", u.batches_attempted);
  w.Field("batches_accepted", u.batches_accepted);
  w.Field("batches_rejected_for_size", u.batches_rejected_for_size);
  w.Field("max_batch_size_attempted", u.max_batch_size_attempted);
  w.Key("average_batch_size")
      .Double(u.batches_attempted == 0 ? 0.0
                                       : static_cast<double>(u.memories_attempted) /
                                             static_cast<double>(u.batches_attempted));
  w.EndObject();
  w.Field("exceeds_limits", over);
  w.FieldOrNull("recommendation", over ? c.messaging.batch_limit_message : "");
  w.Field("upgrade_url", c.messaging.upgrade_url);
  w.Key("cloud_benefits").BeginArray();
  for (const auto& b : c.messaging.cloud_benefits) w.String(b);
  w.EndArray().EndObject();
  return HttpResponse::Json(200, w.Take());
}

// The cluster's nodes and shards (no user's data: ids, addresses, leases, counts).
HttpResponse Router::Rep::ClusterView() {
  if (!deps.cluster_view) {
    return SimpleError(404, "this server does not run as a cluster (cluster.enabled)");
  }
  auto json = deps.cluster_view();
  if (!json.ok()) return StatusError(json.status());
  return HttpResponse::Json(200, std::move(json).value());
}

// Read-only: a page of one of the user's workflow histories (the console's timeline).
HttpResponse Router::Rep::WorkflowHistory(const HttpRequest& req, const std::string& user,
                                          const std::string& id) {
  int64_t after = 0, limit = 200;
  HttpResponse bad;
  if (!IntParam(req, "after", 0, INT64_MAX - 1, 0, &after, &bad)) return bad;
  if (!IntParam(req, "limit", 1, 1000, 200, &limit, &bad)) return bad;
  auto json = deps.batches->HistoryJson(user, id, after, limit);
  if (!json.ok()) return StatusError(json.status());
  return HttpResponse::Json(200, std::move(json).value());
}

// Operator actions on one of the user's workflows: 200 {"workflow_id","action","status",
// "cancel_requested","workflow_type"} with the execution's state once the request is
// recorded; retry answers 202 like a batch submit.
HttpResponse Router::Rep::AdminAction(const HttpRequest& req, const std::string& user,
                                      const std::string& id, const std::string& action) {
  if (action == "retry") return AdminRetry(user, id);
  AdminActionRequest body;
  ApiError error;
  if (!DecodeAdminAction(req.body, action, &body, &error)) return ErrorResponse(error);
  Status s;
  if (action == "terminate") {
    s = deps.batches->AdminTerminate(user, id, *body.reason);
  } else if (action == "cancel") {
    std::string reason = body.reason.value_or("cancelled through the admin API");
    s = deps.batches->AdminCancel(user, id, reason);
  } else {
    s = deps.batches->AdminSignal(user, id, body.name, body.input_json);
  }
  if (!s.ok()) return StatusError(s);
  log::Info("admin action", {{"workflow_id", id}, {"action", action}, {"user", user}});
  auto state = deps.batches->AdminDescribe(user, id);
  if (!state.ok()) return StatusError(state.status());
  JsonWriter w;
  w.BeginObject().Field("workflow_id", id).Field("action", action);
  w.Field("status", state->status).Field("cancel_requested", state->cancel_requested);
  w.Field("workflow_type", state->workflow_type).EndObject();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse Router::Rep::AdminRetry(const std::string& user, const std::string& id) {
  auto outcome = deps.batches->AdminRetry(user, id);
  if (!outcome.ok()) return StatusError(outcome.status());
  log::Info("admin action", {{"workflow_id", id}, {"action", "retry"}, {"user", user},
                             {"batch_id", outcome->batch_id}});
  auto status = deps.batches->GetStatus(user, outcome->batch_id);
  std::string webhook_url = status.ok() ? status->webhook.url : "";
  int64_t memories = status.ok() ? status->total : 0;
  return Accepted(user, *outcome, webhook_url, [&](JsonWriter& w) {
    w.Field("retry_of", id).Field("memories", memories);
  });
}

HttpResponse Router::Rep::BatchStatus(const std::string& user, const std::string& id) {
  auto status = deps.batches->GetStatus(user, id);
  if (!status.ok()) return StatusError(status.status());
  JsonWriter w;
  WriteBatchStatus(w, *status);
  return HttpResponse::Json(200, w.Take());
}

//! One client's Server-Sent Events stream of a batch's progress.
struct Router::Rep::ProgressStream {
  std::string user, batch_id;
  std::shared_ptr<net::ResponseStream> out;
  std::string last_json;
  std::chrono::steady_clock::time_point last_sent{};
  boost::asio::steady_timer timer;
  std::atomic<bool> timer_armed{false};
  explicit ProgressStream(boost::asio::thread_pool& pool) : timer(pool) {}
};

// Sends a `progress` event when the status changed (coalesced to at most 10 a second), and a
// final `done` event when the batch ends; then closes. Fed by change notifications of the
// batch service, not by polling.
HttpResponse Router::Rep::BatchEvents(const std::string& user, const std::string& id,
                                      Responder* respond) {
  auto status = deps.batches->GetStatus(user, id);
  if (!status.ok()) return StatusError(status.status());
  auto ps = std::make_shared<ProgressStream>(pool);
  ps->user = user;
  ps->batch_id = id;
  ps->out = std::make_shared<net::ResponseStream>();
  {
    std::lock_guard lock(streams_mu);
    std::erase_if(streams, [](const auto& weak) { return weak.expired(); });
    streams.push_back(ps->out);
  }
  HttpResponse headers;
  headers.content_type = "text/event-stream";
  headers.stream = ps->out;
  (*respond)(std::move(headers));
  *respond = nullptr;
  StreamProgress(ps);
  return {};
}

void Router::Rep::StreamProgress(std::shared_ptr<ProgressStream> ps) {
  if (ps->out->closed() || stopping) return;
  auto status = deps.batches->GetStatus(ps->user, ps->batch_id);
  if (!status.ok()) {
    ps->out->Push("event: error\ndata: " + ErrorBody(ApiError::FromStatus(status.status())) +
                  "\n\n");
    return ps->out->Close();
  }
  JsonWriter w;
  WriteBatchStatus(w, *status);
  std::string json = w.Take();
  if (json != ps->last_json) {
    ps->out->Push("event: progress\ndata: " + json + "\n\n");
    ps->last_json = json;
    ps->last_sent = std::chrono::steady_clock::now();
  }
  if (workflows::IsTerminal(status->state)) {
    ps->out->Push("event: done\ndata: " + json + "\n\n");
    return ps->out->Close();
  }
  auto rearm = [this, ps](std::chrono::steady_clock::time_point due) {
    if (ps->timer_armed.exchange(true)) return;
    ps->timer.expires_at(due);
    ps->timer.async_wait([this, ps](boost::system::error_code) {
      ps->timer_armed = false;
      StreamProgress(ps);
    });
  };
  bool live = deps.batches->SubscribeOnce(
      ps->batch_id, [ps, rearm] { rearm(ps->last_sent + std::chrono::milliseconds(100)); });
  // Not live (still being recovered, or not resumable): no change notification will come, so
  // look again in a second.
  if (!live) rearm(std::chrono::steady_clock::now() + std::chrono::seconds(1));
}

HttpResponse Router::Rep::BatchResults(const HttpRequest& req, const std::string& user,
                                       const std::string& id) {
  int64_t after = -1, limit = 100;
  HttpResponse bad;
  if (!IntParam(req, "after", -1, INT64_MAX - 1, -1, &after, &bad)) return bad;
  if (!IntParam(req, "limit", 1, 1000, 100, &limit, &bad)) return bad;
  auto page = deps.batches->GetResults(user, id, after, limit);
  if (!page.ok()) return StatusError(page.status());
  JsonWriter w;
  w.BeginObject().Field("batch_id", id).Key("results").BeginArray();
  for (const auto& r : page->results) {
    // Only a stored memory has an id; a failed, canceled or pending one has none (null).
    bool stored = r.state == workflows::ItemState::kSucceeded;
    w.BeginObject().Field("index", r.index).FieldOrNull("memoryId", stored ? r.memory_id : "");
    w.Field("status", workflows::ItemStateName(r.state)).FieldOrNull("error", r.error);
    if (r.code != 0) w.Field("code", r.code);
    w.EndObject();
  }
  w.EndArray().Key("next_after");
  if (page->next_after) {
    w.Int(*page->next_after);
  } else {
    w.Null();
  }
  w.EndObject();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse Router::Rep::ListBatches(const HttpRequest& req, const std::string& user) {
  int64_t limit = 20;
  HttpResponse bad;
  if (!IntParam(req, "limit", 1, 1000, 20, &limit, &bad)) return bad;
  std::optional<workflows::BatchState> filter;
  std::string raw;
  if (req.QueryParam("status", &raw) && !raw.empty()) {
    filter = workflows::ParseBatchState(raw);
    if (!filter) {
      JsonWriter d;
      std::string valid;
      d.BeginObject().Field("field", "status").Key("valid").BeginArray();
      for (const auto& name : workflows::BatchStateNames()) {
        d.String(name);
        valid += (valid.empty() ? "" : ", ") + name;
      }
      d.EndArray().EndObject();
      return SimpleError(400, "unknown status filter '" + raw + "'; valid: " + valid, d.Take());
    }
  }
  std::string after;
  req.QueryParam("after", &after);
  auto page = deps.batches->List(user, filter, limit, after);
  if (!page.ok()) return StatusError(page.status());
  JsonWriter w;
  w.BeginObject().Key("batches").BeginArray();
  for (const auto& st : page->batches) WriteBatchStatus(w, st);
  w.EndArray().FieldOrNull("next_after", page->next_after).EndObject();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse Router::Rep::CancelBatch(const std::string& user, const std::string& id) {
  Status s = deps.batches->Cancel(user, id);
  if (!s.ok()) return StatusError(s);
  return BatchStatus(user, id);
}

Router::Router(RouterDeps deps) : rep_(new Rep(deps)) {}

Router::~Router() { Shutdown(); }

void Router::Handle(net::HttpRequest request, net::Responder respond) {
  if (rep_->stopping) {
    return respond(SimpleError(503, "server is shutting down"));
  }
  boost::asio::post(rep_->pool, [this, req = std::move(request), respond]() mutable {
    rep_->Dispatch(std::move(req), std::move(respond));
  });
}

void Router::CloseStreams() {
  std::lock_guard lock(rep_->streams_mu);
  for (auto& weak : rep_->streams) {
    if (auto s = weak.lock()) s->Close();
  }
  rep_->streams.clear();
}

void Router::Shutdown() {
  CloseStreams();
  if (rep_->stopping.exchange(true)) return;
  // Pending ?wait= timers would keep join() waiting: running handlers finish, the rest go.
  rep_->pool.stop();
  rep_->pool.join();
}

}  // namespace papr::api
