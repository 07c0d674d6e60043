#pragma once

// The Router's state and handlers, shared by router.cc (dispatch and the route table) and
// the files of handlers: memory_routes.cc, batch_routes.cc, admin_routes.cc.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/thread_pool.hpp>

#include "api/auth.h"
#include "api/metrics.h"
#include "api/request_decoder.h"
#include "api/router.h"
#include "api/static_files.h"
#include "common/json_writer.h"

namespace papr::api {

using net::HttpRequest;
using net::HttpResponse;
using net::Responder;

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
  std::optional<HttpResponse> Admit(const HttpRequest& req, std::string* user);
  HttpResponse HealthOrReady(const std::string& path);
  HttpResponse MetricsPage();

  // The route table's handlers (router.cc lists them; each file says what it serves).
  HttpResponse Serve(const HttpRequest& req, const std::string& user, Responder* respond);
  HttpResponse AddMemory(const HttpRequest& req, const std::string& user);
  HttpResponse GetMemory(const HttpRequest& req, const std::string& user, const std::string& id);
  HttpResponse DeleteMemory(const HttpRequest& req, const std::string& user,
                            const std::string& id);
  HttpResponse UpdateMemory(const HttpRequest& req, const std::string& user,
                            const std::string& id);
  HttpResponse DeleteAllMemories(const HttpRequest& req, const std::string& user);
  HttpResponse Search(const HttpRequest& req, const std::string& user);
  HttpResponse CreateUser(const HttpRequest& req, const std::string& user);
  HttpResponse CreateUsers(const HttpRequest& req, const std::string& user);
  HttpResponse ListUsers(const HttpRequest& req, const std::string& user);
  HttpResponse GetUser(const HttpRequest& req, const std::string& user, const std::string& id);
  HttpResponse UpdateUser(const HttpRequest& req, const std::string& user, const std::string& id);
  HttpResponse DeleteUser(const HttpRequest& req, const std::string& user, const std::string& id);
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
  HttpResponse UploadDocument(const HttpRequest& req, const std::string& user);
  HttpResponse DocumentStatus(const std::string& user, const std::string& id);
  HttpResponse CancelDocument(const std::string& user, const std::string& id);
  // 413 with upgrade details when a document file is over features.max_document_bytes.
  std::optional<HttpResponse> DocumentTooLarge(const std::string& user, size_t bytes) const;
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
  // The decoders' limits for `user`: its plan's (config/plans.h).
  DecodeLimits Limits(const std::string& user) const;
};

}  // namespace papr::api
