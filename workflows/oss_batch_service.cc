#include "workflows/oss_batch_service.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "common/crypto.h"
#include "workflows/webhook_sender.h"

namespace papr::workflows {
namespace {

constexpr size_t kMaxErrorsInStatus = 100;
constexpr size_t kMaxRetainedBatches = 10000;

//! One accepted batch and its progress. Guarded by Rep::mu.
struct BatchRun {
  BatchRequest request;
  BatchStatus status;
  std::vector<ItemResult> items;
  int64_t next_index = 0;  // next memory to hand to a worker
  int64_t in_flight = 0;
  bool cancel_requested = false;
  int64_t sequence = 0;    // arrival order, for listing newest first
  std::vector<std::function<void()>> listeners;
  std::vector<std::function<void()>> done_listeners;
};

}  // namespace

struct OssBatchService::Rep {
  const config::Config& config;
  MemoryProcessor* processor;
  WebhookSender* webhooks;
  const Clock* clock;

  std::mutex mu;
  std::condition_variable work_cv;
  bool stopping = false;
  std::unordered_map<std::string, std::shared_ptr<BatchRun>> batches;
  std::deque<std::shared_ptr<BatchRun>> runnable;  // batches with unclaimed memories
  std::map<std::pair<std::string, std::string>, std::string> idempotency;  // (user,key)->id
  int64_t next_sequence = 0;
  int64_t active_batches = 0;  // accepted and not finished
  int64_t webhook_delivered = 0, webhook_failed = 0;
  std::vector<std::thread> workers;

  Rep(const config::Config& c, MemoryProcessor* p, WebhookSender* w, const Clock* clk)
      : config(c), processor(p), webhooks(w), clock(clk) {}

  void WorkerLoop();
  void RunItem(const std::shared_ptr<BatchRun>& run, int64_t index);
  // REQUIRES: mu held. Moves a batch whose last item is done to its final state.
  std::vector<std::function<void()>> MaybeFinish(BatchRun& run);
  void Notify(std::vector<std::function<void()>> listeners) {
    for (auto& fn : listeners) fn();
  }
  std::vector<std::function<void()>> TakeListeners(BatchRun& run) {
    std::vector<std::function<void()>> out;
    out.swap(run.listeners);
    return out;
  }
  void EvictOldFinished();
};

void OssBatchService::Rep::WorkerLoop() {
  std::unique_lock lock(mu);
  while (true) {
    work_cv.wait(lock, [&] { return stopping || !runnable.empty(); });
    if (stopping) return;
    auto run = runnable.front();
    int64_t index = run->next_index++;
    if (run->next_index >= static_cast<int64_t>(run->items.size())) runnable.pop_front();
    if (run->status.state == BatchState::kQueued) {
      run->status.state = BatchState::kProcessing;
      run->status.started_at_ms = clock->NowMillis();
    }
    run->in_flight++;
    run->status.processing++;
    lock.unlock();
    RunItem(run, index);
    lock.lock();
  }
}

void OssBatchService::Rep::RunItem(const std::shared_ptr<BatchRun>& run, int64_t index) {
  bool cancelled;
  {
    std::lock_guard lock(mu);
    cancelled = run->cancel_requested;
  }
  ItemResult result;
  result.index = index;
  result.memory_id = MemoryProcessor::BatchMemoryId(run->status.batch_id, index);
  if (cancelled) {
    result.state = ItemState::kCanceled;
  } else {
    MemoryTarget target{run->request.user_id, result.memory_id, run->status.batch_id, index};
    auto stored = processor->Process(target, run->request.memories[index]);
    if (stored.ok()) {
      result.state = ItemState::kSucceeded;
      result.created_at_ms = stored->created_at_ms;
    } else {
      result.state = ItemState::kFailed;
      result.error = stored.status().message();
      result.code = ItemErrorCode(stored.status());
    }
  }
  std::vector<std::function<void()>> to_notify;
  std::shared_ptr<BatchRun> finished;
  {
    std::lock_guard lock(mu);
    auto& st = run->status;
    run->items[index] = result;
    run->in_flight--;
    st.processing--;
    st.updated_at_ms = clock->NowMillis();
    if (result.state == ItemState::kSucceeded) {
      st.succeeded++;
    } else if (result.state == ItemState::kFailed) {
      st.failed++;
      if (st.errors.size() < kMaxErrorsInStatus) {
        st.errors.push_back({index, result.error, result.code});
      }
    } else {
      st.canceled++;
    }
    to_notify = MaybeFinish(*run);
    if (IsTerminal(st.state)) finished = run;
  }
  Notify(std::move(to_notify));
  if (finished && webhooks != nullptr && !finished->request.webhook_url.empty()) {
    BatchStatus snapshot;
    {
      std::lock_guard lock(mu);
      snapshot = finished->status;
    }
    WebhookStatus outcome = webhooks->DeliverOnce(snapshot, finished->request.webhook_url,
                                                  finished->request.webhook_secret);
    outcome.deliveries.push_back({clock->NowMillis(), outcome.last_status_code, outcome.last_error});
    std::lock_guard lock(mu);
    (outcome.state == WebhookState::kDelivered ? webhook_delivered : webhook_failed)++;
    finished->status.webhook = outcome;
  }
}

std::vector<std::function<void()>> OssBatchService::Rep::MaybeFinish(BatchRun& run) {
  auto& st = run.status;
  int64_t done = st.succeeded + st.failed + st.canceled;
  if (done < st.total) return TakeListeners(run);
  if (st.canceled > 0) {
    st.state = BatchState::kCancelled;
  } else if (st.failed == 0) {
    st.state = BatchState::kCompleted;
  } else if (st.succeeded == 0) {
    st.state = BatchState::kFailed;
  } else {
    st.state = BatchState::kPartial;
  }
  st.completed_at_ms = clock->NowMillis();
  active_batches--;
  auto out = TakeListeners(run);
  for (auto& fn : run.done_listeners) out.push_back(std::move(fn));
  run.done_listeners.clear();
  EvictOldFinished();
  return out;
}

void OssBatchService::Rep::EvictOldFinished() {
  if (batches.size() <= kMaxRetainedBatches) return;
  // Drop the oldest finished batch; progress is documented as in-memory and bounded.
  auto oldest = batches.end();
  for (auto it = batches.begin(); it != batches.end(); ++it) {
    if (!IsTerminal(it->second->status.state)) continue;
    if (oldest == batches.end() || it->second->sequence < oldest->second->sequence) oldest = it;
  }
  if (oldest != batches.end()) batches.erase(oldest);
}

OssBatchService::OssBatchService(const config::Config& config, MemoryProcessor* processor,
                                 WebhookSender* webhooks, const Clock* clock)
    : rep_(new Rep(config, processor, webhooks, clock)) {
  int64_t n = std::max<int64_t>(1, config.features.max_concurrent_tasks);
  for (int64_t i = 0; i < n; ++i) rep_->workers.emplace_back([this] { rep_->WorkerLoop(); });
}

OssBatchService::~OssBatchService() { Shutdown(); }

void OssBatchService::Shutdown() {
  {
    std::lock_guard lock(rep_->mu);
    if (rep_->stopping && rep_->workers.empty()) return;
    rep_->stopping = true;
  }
  rep_->work_cv.notify_all();
  for (auto& t : rep_->workers) t.join();
  rep_->workers.clear();
}

Result<SubmitOutcome> OssBatchService::Submit(BatchRequest request) {
  std::lock_guard lock(rep_->mu);
  if (rep_->stopping) return Status::Unavailable("server is shutting down");
  if (!request.idempotency_key.empty()) {
    auto it = rep_->idempotency.find({request.user_id, request.idempotency_key});
    if (it != rep_->idempotency.end()) {
      auto batch = rep_->batches.find(it->second);
      if (batch != rep_->batches.end()) {
        if (batch->second->request.body_hash != request.body_hash) {
          return Status::InvalidArgument(
              "Idempotency-Key was already used with a different request body");
        }
        return SubmitOutcome{it->second, it->second, false, true};
      }
    }
  }
  if (rep_->active_batches >= rep_->config.features.max_queued_batches) {
    return Status::ResourceExhausted("too many batches in progress; retry later");
  }
  auto run = std::make_shared<BatchRun>();
  std::string batch_id = request.batch_id.empty() ? RandomUuid() : request.batch_id;
  run->status.batch_id = batch_id;
  run->status.workflow_id = batch_id;
  run->status.user_id = request.user_id;
  run->status.total = static_cast<int64_t>(request.memories.size());
  run->status.created_at_ms = run->status.updated_at_ms = rep_->clock->NowMillis();
  run->status.webhook.url = request.webhook_url;
  // "none" means no webhook; one that is configured is pending until its attempt.
  if (!request.webhook_url.empty()) run->status.webhook.state = WebhookState::kPending;
  for (const auto& m : request.memories) {
    run->status.total_content_size += static_cast<int64_t>(m.content.size());
  }
  run->items.resize(request.memories.size());
  for (size_t i = 0; i < run->items.size(); ++i) {
    run->items[i].index = static_cast<int64_t>(i);
    run->items[i].memory_id = MemoryProcessor::BatchMemoryId(batch_id, static_cast<int64_t>(i));
  }
  run->sequence = rep_->next_sequence++;
  if (!request.idempotency_key.empty()) {
    rep_->idempotency[{request.user_id, request.idempotency_key}] = batch_id;
  }
  run->request = std::move(request);
  rep_->batches[batch_id] = run;
  rep_->runnable.push_back(run);
  rep_->active_batches++;
  rep_->work_cv.notify_all();
  return SubmitOutcome{batch_id, batch_id, false, false};
}

Result<BatchStatus> OssBatchService::GetStatus(const std::string& user_id,
                                               const std::string& batch_id) {
  std::lock_guard lock(rep_->mu);
  auto it = rep_->batches.find(batch_id);
  if (it == rep_->batches.end() || it->second->status.user_id != user_id) {
    return Status::NotFound("batch " + batch_id + " not found");
  }
  return it->second->status;
}

Result<ResultsPage> OssBatchService::GetResults(const std::string& user_id,
                                                const std::string& batch_id, int64_t after,
                                                int64_t limit) {
  std::lock_guard lock(rep_->mu);
  auto it = rep_->batches.find(batch_id);
  if (it == rep_->batches.end() || it->second->status.user_id != user_id) {
    return Status::NotFound("batch " + batch_id + " not found");
  }
  const auto& items = it->second->items;
  ResultsPage page;
  int64_t start = std::max<int64_t>(0, after + 1);
  int64_t end = std::min<int64_t>(static_cast<int64_t>(items.size()), start + limit);
  for (int64_t i = start; i < end; ++i) page.results.push_back(items[i]);
  if (end < static_cast<int64_t>(items.size())) page.next_after = end - 1;
  return page;
}

Result<BatchListPage> OssBatchService::List(const std::string& user_id,
                                            std::optional<BatchState> state_filter, int64_t limit,
                                            const std::string& after) {
  std::lock_guard lock(rep_->mu);
  int64_t after_sequence = INT64_MAX;
  if (!after.empty()) {
    auto it = rep_->batches.find(after);
    if (it == rep_->batches.end()) return BatchListPage{};  // unknown (or evicted) cursor
    after_sequence = it->second->sequence;
  }
  std::vector<std::shared_ptr<BatchRun>> matching;
  for (const auto& [id, run] : rep_->batches) {
    if (run->status.user_id != user_id || run->sequence >= after_sequence) continue;
    if (state_filter && run->status.state != *state_filter) continue;
    matching.push_back(run);
  }
  std::sort(matching.begin(), matching.end(),
            [](const auto& a, const auto& b) { return a->sequence > b->sequence; });
  BatchListPage page;
  for (const auto& run : matching) {
    if (static_cast<int64_t>(page.batches.size()) == limit) {
      page.next_after = page.batches.back().batch_id;
      break;
    }
    page.batches.push_back(run->status);
  }
  return page;
}

Status OssBatchService::Cancel(const std::string& user_id, const std::string& batch_id) {
  std::vector<std::function<void()>> to_notify;
  {
    std::lock_guard lock(rep_->mu);
    auto it = rep_->batches.find(batch_id);
    if (it == rep_->batches.end() || it->second->status.user_id != user_id) {
      return Status::NotFound("batch " + batch_id + " not found");
    }
    auto keep = it->second;  // eviction in MaybeFinish may drop the map's reference
    auto& run = *keep;
    if (IsTerminal(run.status.state)) {
      return Status::FailedPrecondition("batch " + batch_id + " already finished as " +
                                        BatchStateName(run.status.state));
    }
    run.cancel_requested = true;
    // Memories no worker has claimed yet are canceled now; claimed ones finish.
    auto& queue = rep_->runnable;
    queue.erase(std::remove(queue.begin(), queue.end(), keep), queue.end());
    for (int64_t i = run.next_index; i < run.status.total; ++i) {
      run.items[i].state = ItemState::kCanceled;
      run.status.canceled++;
    }
    run.next_index = run.status.total;
    run.status.state = BatchState::kCancelling;
    run.status.updated_at_ms = rep_->clock->NowMillis();
    to_notify = rep_->MaybeFinish(run);
  }
  rep_->Notify(std::move(to_notify));
  return Status::Ok();
}

Result<std::string> OssBatchService::HistoryJson(const std::string&, const std::string&, int64_t,
                                                 int64_t) {
  return Status::NotFound("execution histories exist only in the cloud edition (durable batches)");
}

namespace {

Status NoDurableWorkflows() {
  return Status::NotFound("durable workflows exist only in the cloud edition");
}

}  // namespace

Status OssBatchService::AdminTerminate(const std::string&, const std::string&,
                                       const std::string&) {
  return NoDurableWorkflows();
}

// The executor's batches are its only "workflows": cancel is the batch cancel.
Status OssBatchService::AdminCancel(const std::string& user_id, const std::string& workflow_id,
                                    const std::string&) {
  return Cancel(user_id, workflow_id);
}

Status OssBatchService::AdminSignal(const std::string&, const std::string&, const std::string&,
                                    const std::string&) {
  return NoDurableWorkflows();
}

Result<SubmitOutcome> OssBatchService::AdminRetry(const std::string&, const std::string&) {
  return NoDurableWorkflows();
}

// In the engine's words: a batch runs until it is terminal; a cancelled one ends canceled.
Result<WorkflowState> OssBatchService::AdminDescribe(const std::string& user_id,
                                                     const std::string& workflow_id) {
  ASSIGN_OR_RETURN(BatchStatus st, GetStatus(user_id, workflow_id));
  WorkflowState state;
  state.workflow_type = "in_memory_batch";
  state.cancel_requested =
      st.state == BatchState::kCancelling || st.state == BatchState::kCancelled;
  if (!IsTerminal(st.state)) {
    state.status = "running";
  } else {
    state.status = st.state == BatchState::kCancelled ? "canceled" : "completed";
  }
  return state;
}

std::string OssBatchService::ExecutorMetricsText() const {
  std::lock_guard lock(rep_->mu);
  std::string out = "# HELP papr_oss_batches_active Batches queued or running on the executor.\n";
  out += "# TYPE papr_oss_batches_active gauge\n";
  out += "papr_oss_batches_active " + std::to_string(rep_->active_batches) + "\n";
  return out;
}

std::string OssBatchService::MetricsText() const {
  std::string out = ExecutorMetricsText();
  std::lock_guard lock(rep_->mu);
  out += "# HELP papr_webhook_attempts_total Webhook delivery attempts by outcome.\n";
  out += "# TYPE papr_webhook_attempts_total counter\n";
  out += "papr_webhook_attempts_total{outcome=\"delivered\"} " +
         std::to_string(rep_->webhook_delivered) + "\n";
  out += "papr_webhook_attempts_total{outcome=\"failed\"} " +
         std::to_string(rep_->webhook_failed) + "\n";
  return out;
}

bool OssBatchService::SubscribeDone(const std::string& batch_id, std::function<void()> fn) {
  {
    std::lock_guard lock(rep_->mu);
    auto it = rep_->batches.find(batch_id);
    if (it == rep_->batches.end()) return false;
    if (!IsTerminal(it->second->status.state)) {
      it->second->done_listeners.push_back(std::move(fn));
      return true;
    }
  }
  fn();
  return true;
}

bool OssBatchService::SubscribeOnce(const std::string& batch_id, std::function<void()> fn) {
  {
    std::lock_guard lock(rep_->mu);
    auto it = rep_->batches.find(batch_id);
    if (it == rep_->batches.end()) return false;
    if (!IsTerminal(it->second->status.state)) {
      it->second->listeners.push_back(std::move(fn));
      return true;
    }
  }
  fn();  // already finished: tell at once
  return true;
}

}  // namespace papr::workflows
