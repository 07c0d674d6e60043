#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "api/auth.h"
#include "common/clock.h"
#include "config/config.h"
#include "net/http_server.h"
#include "storage/memory_store.h"
#include "storage/usage_store.h"
#include "workflows/batch_service.h"
#include "workflows/end_users.h"
#include "workflows/memory_editor.h"
#include "workflows/memory_processor.h"
#include "workflows/webhook_sender.h"

namespace papr::api {

//! What the routes work with; owned by the App, outliving the Router.
struct RouterDeps {
  const config::Config* config = nullptr;
  storage::MemoryStore* memories = nullptr;
  storage::UsageStore* usage = nullptr;
  workflows::MemoryProcessor* processor = nullptr;
  workflows::MemoryEditor* editor = nullptr;  // get, update, delete, delete-all
  workflows::EndUsers* end_users = nullptr;   // /v1/user
  workflows::BatchService* batches = nullptr;
  workflows::WebhookSender* webhooks = nullptr;
  const Clock* clock = nullptr;
  const std::atomic<bool>* ready = nullptr;  // /readyz
  // /readyz: true while the store refuses writes after a write error. Optional.
  std::function<bool()> writes_refused;
  // /readyz: Ok while the database answers (a remote one may be down). Optional.
  std::function<Status()> database_reachable;
  // /metrics: more Prometheus text (cluster mode: the node's shards). Optional.
  std::function<std::string()> more_metrics;
  // GET /v1/admin/cluster: the cluster's nodes and shards as JSON (cluster mode). Optional:
  // without it the route answers 404.
  std::function<Result<std::string>()> cluster_view;
};

//! One route: its method and path pattern (api/route_pattern.h), as GET /openapi.json lists it.
struct RouteInfo {
  std::string_view method;
  std::string_view pattern;
};

//! Routes of API.md. Handle() is called on an io thread; each request runs on the handler
//! pool (storage and fsync block) and answers through its Responder. Thread-safe.
class Router {
 public:
  explicit Router(RouterDeps deps);
  ~Router();

  // Every route the router serves, in the order of its table.
  static std::vector<RouteInfo> Routes();

  void Handle(net::HttpRequest request, net::Responder respond);
  // Ends open progress streams (they would hold a draining HTTP server open).
  void CloseStreams();
  // Waits for running handlers; later requests get 503.
  void Shutdown();

 public:
  struct Rep;  // api/internal/router_rep.h

 private:
  std::unique_ptr<Rep> rep_;
};

}  // namespace papr::api
