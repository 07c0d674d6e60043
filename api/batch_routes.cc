// Routes of batches: submit (and ?wait=), status, progress events, results, list, cancel.

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "api/internal/router_rep.h"
#include "api/internal/route_helpers.h"
#include "api/response_json.h"
#include "common/log.h"

namespace papr::api {

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
  if (!DecodeBatch(req.body, Limits(user), &batch, &error, &attempted)) {
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

}  // namespace papr::api
