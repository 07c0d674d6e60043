#include "api/router.h"

#include <boost/asio/post.hpp>

#include "api/internal/route_helpers.h"
#include "api/internal/router_rep.h"
#include "api/openapi_document.h"
#include "api/request_checks.h"
#include "api/route_pattern.h"
#include "config/plans.h"

namespace papr::api {

//! What a handler is called with: the request, its caller (empty on public routes), the
//! pattern's parameters in order, and the responder a handler that answers later takes.
struct RouteCall {
  const HttpRequest& req;
  const std::string& user;
  const std::vector<std::string>& params;
  Responder* respond;
};

namespace {

using Handler = HttpResponse (*)(Router::Rep&, const RouteCall&);

//! One row of the route table: what GET /openapi.json documents, and its handler.
struct Route {
  RouteInfo info;
  Handler handler;
};

HttpResponse Redirect(std::string location) {
  HttpResponse r = HttpResponse::Json(302, "");
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

// Every route the server answers. /v1 routes need an API key; the others are public.
const std::vector<Route>& RouteTable() {
  using R = Router::Rep;
  using C = const RouteCall&;
  static const std::vector<Route> kRoutes = {
      {{"GET", "/healthz"}, [](R& r, C) { return r.HealthOrReady("/healthz"); }},
      {{"GET", "/readyz"}, [](R& r, C) { return r.HealthOrReady("/readyz"); }},
      {{"GET", "/metrics"}, [](R& r, C) { return r.MetricsPage(); }},
      {{"GET", "/openapi.json"}, [](R&, C) { return HttpResponse::Json(200, std::string(OpenApiDocument())); }},
      {{"GET", "/"}, [](R&, C) { return Redirect("/ui/"); }},
      {{"GET", "/ui"}, [](R&, C) { return Redirect("/ui/"); }},
      {{"GET", "/ui/"}, [](R& r, C c) { return r.Serve(c.req, c.user, c.respond); }},
      {{"GET", "/ui/{file+}"}, [](R& r, C c) { return r.Serve(c.req, c.user, c.respond); }},
      {{"POST", "/v1/memory"}, [](R& r, C c) { return r.AddMemory(c.req, c.user); }},
      {{"GET", "/v1/memory/{memory_id}"},
       [](R& r, C c) { return r.GetMemory(c.req, c.user, c.params[0]); }},
      {{"PUT", "/v1/memory/{memory_id}"},
       [](R& r, C c) { return r.UpdateMemory(c.req, c.user, c.params[0]); }},
      {{"DELETE", "/v1/memory/{memory_id}"},
       [](R& r, C c) { return r.DeleteMemory(c.req, c.user, c.params[0]); }},
      {{"DELETE", "/v1/memory/all"}, [](R& r, C c) { return r.DeleteAllMemories(c.req, c.user); }},
      {{"POST", "/v1/memory/search"}, [](R& r, C c) { return r.Search(c.req, c.user); }},
      {{"POST", "/v1/memory/batch"},
       [](R& r, C c) { return r.SubmitBatch(c.req, c.user, c.respond); }},
      {{"GET", "/v1/memory/batch"}, [](R& r, C c) { return r.ListBatches(c.req, c.user); }},
      {{"GET", "/v1/memory/batch/status/{batch_id}"},
       [](R& r, C c) { return r.BatchStatus(c.user, c.params[0]); }},
      {{"GET", "/v1/memory/batch/status/{batch_id}/events"},
       [](R& r, C c) { return r.BatchEvents(c.user, c.params[0], c.respond); }},
      {{"GET", "/v1/memory/batch/{batch_id}/results"},
       [](R& r, C c) { return r.BatchResults(c.req, c.user, c.params[0]); }},
      {{"POST", "/v1/memory/batch/{batch_id}/cancel"},
       [](R& r, C c) { return r.CancelBatch(c.user, c.params[0]); }},
      {{"POST", "/v1/document"}, [](R& r, C c) { return r.UploadDocument(c.req, c.user); }},
      {{"GET", "/v1/document/status/{upload_id}"},
       [](R& r, C c) { return r.DocumentStatus(c.user, c.params[0]); }},
      {{"DELETE", "/v1/document/{upload_id}"},
       [](R& r, C c) { return r.CancelDocument(c.user, c.params[0]); }},
      {{"POST", "/v1/user"}, [](R& r, C c) { return r.CreateUser(c.req, c.user); }},
      {{"GET", "/v1/user"}, [](R& r, C c) { return r.ListUsers(c.req, c.user); }},
      {{"POST", "/v1/user/batch"}, [](R& r, C c) { return r.CreateUsers(c.req, c.user); }},
      {{"GET", "/v1/user/{user_id}"},
       [](R& r, C c) { return r.GetUser(c.req, c.user, c.params[0]); }},
      {{"PUT", "/v1/user/{user_id}"},
       [](R& r, C c) { return r.UpdateUser(c.req, c.user, c.params[0]); }},
      {{"DELETE", "/v1/user/{user_id}"},
       [](R& r, C c) { return r.DeleteUser(c.req, c.user, c.params[0]); }},
      {{"GET", "/v1/usage"}, [](R& r, C c) { return r.GetUsage(c.user); }},
      {{"GET", "/v1/admin/cluster"}, [](R& r, C) { return r.ClusterView(); }},
      {{"GET", "/v1/admin/workflows/{workflow_id+}/history"},
       [](R& r, C c) { return r.WorkflowHistory(c.req, c.user, c.params[0]); }},
      {{"POST", "/v1/admin/workflows/{workflow_id+}/terminate"},
       [](R& r, C c) { return r.AdminAction(c.req, c.user, c.params[0], "terminate"); }},
      {{"POST", "/v1/admin/workflows/{workflow_id+}/cancel"},
       [](R& r, C c) { return r.AdminAction(c.req, c.user, c.params[0], "cancel"); }},
      {{"POST", "/v1/admin/workflows/{workflow_id+}/signal"},
       [](R& r, C c) { return r.AdminAction(c.req, c.user, c.params[0], "signal"); }},
      {{"POST", "/v1/admin/workflows/{workflow_id+}/retry"},
       [](R& r, C c) { return r.AdminAction(c.req, c.user, c.params[0], "retry"); }},
  };
  return kRoutes;
}

//! The route for a request: of the patterns that match the path, those with the most literal
//! segments decide; among them the one of the request's method. 404 or 405 (with Allow) else.
const Route* FindRoute(const HttpRequest& req, std::vector<std::string>* params,
                       HttpResponse* miss) {
  static const std::vector<RoutePattern> patterns = [] {
    std::vector<RoutePattern> out;
    for (const auto& route : RouteTable()) out.emplace_back(route.info.pattern);
    return out;
  }();
  const auto& routes = RouteTable();
  std::vector<size_t> best;
  std::vector<std::string> scratch;
  for (size_t i = 0; i < routes.size(); ++i) {
    if (!patterns[i].Match(req.path, &scratch)) continue;
    if (!best.empty() && patterns[i].literal_count() < patterns[best[0]].literal_count()) continue;
    if (!best.empty() && patterns[i].literal_count() > patterns[best[0]].literal_count()) best.clear();
    best.push_back(i);
  }
  std::string allow;
  for (size_t i : best) {
    if (routes[i].info.method == req.method) {
      patterns[i].Match(req.path, params);
      return &routes[i];
    }
    if (allow.find(routes[i].info.method) == std::string::npos) {
      allow += (allow.empty() ? "" : ", ") + std::string(routes[i].info.method);
    }
  }
  if (best.empty()) {
    *miss = SimpleError(404, "no route for " + req.path);
  } else {
    *miss = SimpleError(405, "method " + req.method + " not allowed on " + req.path);
    miss->headers.emplace_back("Allow", allow);
  }
  return nullptr;
}

}  // namespace

std::vector<RouteInfo> Router::Routes() {
  std::vector<RouteInfo> out;
  for (const auto& route : RouteTable()) out.push_back(route.info);
  return out;
}

DecodeLimits Router::Rep::Limits(const std::string& user) const {
  const auto& c = *deps.config;
  const config::Plan plan = config::PlanOf(c, user);
  DecodeLimits limits;
  limits.max_content_bytes = c.limits.max_content_bytes;
  limits.max_batch_size = plan.max_batch_size;
  limits.plan = plan.name;
  limits.fields = {c.limits.max_metadata_bytes,        c.limits.max_metadata_keys,
                   c.limits.max_metadata_depth,        c.limits.max_metadata_string_bytes,
                   c.limits.max_context_items,         c.limits.max_context_item_bytes};
  limits.upgrade_info = c.messaging.batch_limit_message;
  // With plans, the way up is the next plan (or, at the top, smaller batches).
  if (!c.plans.empty()) {
    const auto next = config::NextPlan(c, plan);
    limits.next_plan = next ? next->name : "";
    limits.upgrade_info =
        next ? "Plan " + plan.name + " takes batches of up to " + std::to_string(plan.max_batch_size) +
                   " memories; plan " + next->name + " takes up to " +
                   std::to_string(next->max_batch_size) + "."
             : "Plan " + plan.name + " is the largest: split the batch into batches of up to " +
                   std::to_string(plan.max_batch_size) + " memories.";
  }
  limits.upgrade_url = c.messaging.upgrade_url;
  limits.max_retry_attempts = c.processing.retry.maximum_attempts;
  return limits;
}

HttpResponse Router::Rep::MetricsPage() {
  std::string text = metrics.Render() + deps.batches->MetricsText();
  if (deps.more_metrics) text += deps.more_metrics();
  HttpResponse r = HttpResponse::Json(200, std::move(text));
  r.content_type = "text/plain; version=0.0.4";
  return r;
}

HttpResponse Router::Rep::HealthOrReady(const std::string& path) {
  if (path == "/healthz") return HttpResponse::Json(200, R"({"status":"ok"})");
  bool ready = deps.ready == nullptr || deps.ready->load();
  if (Status reachable = deps.database_reachable ? deps.database_reachable() : Status::Ok();
      !reachable.ok()) {
    return SimpleError(503, "not ready: the database does not answer (" + reachable.message() + ")",
                       R"({"reads":false,"writes":false})");
  }
  if (ready && deps.writes_refused && deps.writes_refused()) {
    // Reads are still served; a load balancer should send writes elsewhere.
    return SimpleError(503, "not ready: writes are refused after a storage write error "
                            "(disk full?); reads are served",
                       R"({"reads":true,"writes":false})");
  }
  return ready ? HttpResponse::Json(200, R"({"status":"ready"})")
               : SimpleError(503, "recovery in progress");
}

HttpResponse Router::Rep::Serve(const HttpRequest& req, const std::string&, Responder*) {
  // The console's static files need no key: the page asks for one and sends it to /v1.
  auto file = ui.Serve(req.path.substr(4));
  return file ? std::move(*file) : SimpleError(404, "no file " + req.path);
}

// The checks every /v1 request passes before its route: an API key, a JSON body, and no
// write while recovery runs. Nullopt when it passes.
std::optional<HttpResponse> Router::Rep::Admit(const HttpRequest& req, std::string* user) {
  auto caller = auth.Authenticate(req);
  if (!caller) {
    return SimpleError(401, "missing or unknown API key (send X-API-Key or "
                            "Authorization: Bearer)");
  }
  *user = *caller;
  // Every /v1 body is JSON but a document upload's (multipart/form-data, which its handler
  // checks): a body sent as anything else (curl's default form type, text/plain) is refused
  // before it is parsed.
  const bool form_upload = req.method == "POST" && req.path == "/v1/document";
  if (!req.body.empty() && !form_upload && !IsJsonContentType(req.Header("content-type"))) {
    JsonWriter d;
    d.BeginObject().Field("field", "Content-Type").Field("accepted", "application/json");
    d.Field("received", req.Header("content-type").substr(0, 200)).EndObject();
    return SimpleError(415, "Content-Type must be application/json (charset utf-8 if given)",
                       d.Take());
  }
  // Until recovery has resumed every open batch, writes could race it (a second run of one
  // batch, a cancel nobody records): they are refused with Retry-After. Reads are served.
  bool ready = deps.ready == nullptr || deps.ready->load();
  if (!ready && req.method != "GET" && req.method != "HEAD") {
    return ErrorResponse(
        ApiError{503, "the server is recovering open batches; retry shortly", "{}", 1});
  }
  return std::nullopt;
}

void Router::Rep::Dispatch(HttpRequest req, Responder inner) {
  auto started = std::chrono::steady_clock::now();
  Responder respond = [this, inner = std::move(inner), started, method = req.method,
                       route = Metrics::RouteLabel(req.path)](HttpResponse r) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    metrics.CountRequest(method, route, r.status, secs);
    inner(std::move(r));
  };
  std::string user;
  if (StartsWith(req.path, "/v1/")) {
    // A caller without a key learns nothing of the routes.
    if (auto refused = Admit(req, &user)) return respond(std::move(*refused));
  }
  std::vector<std::string> params;
  HttpResponse miss;
  const Route* route = FindRoute(req, &params, &miss);
  if (route == nullptr) return respond(std::move(miss));
  HttpResponse response = route->handler(*this, RouteCall{req, user, params, &respond});
  if (respond) respond(std::move(response));  // a handler that kept `respond` answers later
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
