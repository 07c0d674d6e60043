#include "workflows/durable_batch_service.h"

#include <algorithm>
#include <limits>

#include "common/crypto.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "config/plans.h"
#include "workflows/batch_codec.h"
#include "workflows/durable_batch_payloads.h"
#include "workflows/internal/durable_batch_rep.h"

namespace papr::workflows {

using namespace internal;  // NOLINT: this file implements the internal header

Status DurableBatchService::Rep::ForOpenChildren(
    const std::string& id, const std::function<Status(const std::string&)>& op,
    std::vector<ChildAction>* report) {
  ASSIGN_OR_RETURN(auto children, ChildIds(*engine, id));
  for (const auto& child : children) {
    auto r = engine->Describe(child);
    if (!r.ok() || r->status != engine::ExecutionStatus::kRunning) continue;
    Status s = op(child);
    // The engine passes the parent's request on by itself too: a child it closed meanwhile
    // is done, not a failure.
    auto now = engine->Describe(child);
    if (!s.ok() && now.ok() && now->status != engine::ExecutionStatus::kRunning) s = Status::Ok();
    if (report != nullptr) report->push_back({child, s});
  }
  return Status::Ok();
}

Result<std::vector<engine::ActivityRecord>> DurableBatchService::Rep::ReadWebhookAttempts(
    const std::string& id) {
  return engine->ReadActivities(id, kWebhookActivityBase - 1, 100);
}

Result<BatchStatus> DurableBatchService::Rep::StatusOf(
    const engine::ExecutionRecord& r, const std::vector<engine::ActivityRecord>* webhook_rows) {
  ASSIGN_OR_RETURN(BatchHeader h, Header(r.workflow_id));
  BatchStatus st;
  st.batch_id = st.workflow_id = r.workflow_id;
  st.user_id = h.user_id;
  st.durable = true;
  st.total = h.total;
  st.succeeded = r.progress_succeeded;
  st.failed = r.progress_failed;
  st.canceled = r.progress_canceled;
  st.retries = r.activity_retries;
  st.total_content_size = h.total_content_size;
  int64_t pending = r.activities_pending();
  std::vector<engine::ExecutionRecord> parts = {r};
  if (h.total > kChunkSize) {
    // The root's progress has the chunks whose close it recorded; the others (its open
    // children, read after the root) add theirs, running or just closed, so the sum never
    // goes backwards. A terminated root lists the chunks that were running at its close.
    const auto& open = r.open_children;
    for (int64_t k = 0; k * kChunkSize < h.total; ++k) {
      auto chunk = engine->Describe(ChunkId(r.workflow_id, k));
      if (!chunk.ok()) break;  // not started yet
      st.retries += chunk->activity_retries;
      if (std::find(open.begin(), open.end(), chunk->workflow_id) != open.end()) {
        st.succeeded += chunk->progress_succeeded;
        st.failed += chunk->progress_failed;
        if (chunk->status == engine::ExecutionStatus::kRunning) {
          pending += chunk->activities_pending();
        }
      }
      parts.push_back(std::move(chunk).value());
    }
  }
  int64_t done = st.succeeded + st.failed + st.canceled;
  if (r.status != engine::ExecutionStatus::kRunning && done < st.total) {
    st.canceled += st.total - done;  // ended early (terminated): the rest never ran
    done = st.total;
  }
  st.processing = done >= st.total ? 0 : std::min(pending, st.total - done);
  for (const auto& part : parts) {
    if (auto why = engine->ResumeFailure(part.workflow_id); why && st.resume_error.empty()) {
      st.resume_error = part.workflow_id + ": " + *why;
    }
    for (const auto& f : part.first_failures) {
      if (f.activity_id >= kWebhookActivityBase || st.errors.size() >= 100) continue;
      int64_t code = 500;
      try {
        code = std::stoll(f.error_type);
      } catch (...) {
      }
      st.errors.push_back({f.activity_id, f.error, code});
    }
  }
  st.created_at_ms = st.started_at_ms = r.start_ms;
  st.updated_at_ms = r.updated_ms;
  st.completed_at_ms = r.close_ms;
  using engine::ExecutionStatus;
  switch (r.status) {
    case ExecutionStatus::kRunning:
      if (!r.memo.empty()) {  // memories done; only the webhook is still being delivered
        st.state = DecodeSummary(r.memo).state;
        st.completed_at_ms = r.memo_ms;
      } else {
        st.state = r.cancel_requested ? BatchState::kCancelling : BatchState::kProcessing;
      }
      break;
    case ExecutionStatus::kCompleted:
    case ExecutionStatus::kCanceled:
      st.state = DecodeSummary(r.result).state;
      break;
    case ExecutionStatus::kTerminated:
      st.state = BatchState::kTerminated;
      st.reason = r.failure;
      break;
    case ExecutionStatus::kFailed:
      st.state = BatchState::kFailed;
      st.reason = r.failure;
  }
  st.webhook.url = h.webhook_url;
  if (!h.webhook_url.empty()) {
    std::vector<engine::ActivityRecord> read;
    if (webhook_rows == nullptr) {
      ASSIGN_OR_RETURN(read, ReadWebhookAttempts(r.workflow_id));
      webhook_rows = &read;
    }
    st.webhook.state = WebhookState::kPending;
    for (const auto& row : *webhook_rows) {
      WebhookAttempt a = DecodeAttempt(row.payload);
      st.webhook.deliveries.push_back({row.finished_ms, a.status_code, a.error});
      st.webhook.attempts++;
      st.webhook.last_status_code = a.status_code;
      st.webhook.last_error = a.error;
      if (a.delivered) st.webhook.state = WebhookState::kDelivered;
    }
    if (st.webhook.state != WebhookState::kDelivered && r.status != ExecutionStatus::kRunning) {
      st.webhook.state = WebhookState::kFailed;
    }
    // While memories run, the webhook has not been tried yet: pending.
  }
  return st;
}

DurableBatchService::DurableBatchService(const config::Config& config, engine::Engine* engine,
                                         MemoryProcessor* processor, WebhookSender* webhooks,
                                         const Clock* clock)
    : rep_(new Rep(config, engine, processor, webhooks, clock)) {
  Rep* rep = rep_.get();
  for (const char* type : {kWorkflowType, kChunkWorkflowType}) {
    engine->RegisterWorkflow(type, [rep](WorkflowContext& ctx, std::string input) {
      return rep->BatchWorkflow(ctx, std::move(input));
    });
  }
  RegisterBatchPayloadFormats(&rep->payload_formats);  // how their histories read
  using Kind = engine::Engine::ActivityKind;
  // Processing is compute-bound unless it calls an external endpoint.
  engine->RegisterActivity(
      kProcessMemory, [rep](const engine::ActivityCall& c) { return rep->ProcessMemory(c); },
      config.processing.endpoint.empty() ? Kind::kCompute : Kind::kBlockingIo);
  engine->RegisterActivity(
      kDeliverWebhook, [rep](const engine::ActivityCall& c) { return rep->DeliverWebhook(c); },
      Kind::kBlockingIo);
}

DurableBatchService::~DurableBatchService() = default;

void DurableBatchService::Shutdown() { rep_->engine->Shutdown(); }

std::string DurableBatchService::MetricsText() const {
  std::string out = rep_->engine->MetricsText();
  out += "# HELP papr_webhook_attempts_total Webhook delivery attempts by outcome.\n";
  out += "# TYPE papr_webhook_attempts_total counter\n";
  out += "papr_webhook_attempts_total{outcome=\"delivered\"} " +
         std::to_string(rep_->webhook_delivered.load()) + "\n";
  out += "papr_webhook_attempts_total{outcome=\"failed\"} " +
         std::to_string(rep_->webhook_failed.load()) + "\n";
  out += "# HELP papr_admission_counted_batches Batches counted against limits.max_open_batches.\n";
  out += "# TYPE papr_admission_counted_batches gauge\n";
  out += "papr_admission_counted_batches " +
         std::to_string(rep_->admission.GlobalUsage().batches) + "\n";
  return out;
}

Result<SubmitOutcome> DurableBatchService::Submit(BatchRequest request) {
  std::string id = !request.batch_id.empty()           ? request.batch_id
                   : request.idempotency_key.empty() ? RandomUuid()
                                                     : DeterministicUuid("idempotency:" +
                                                                         request.user_id + "\n" +
                                                                         request.idempotency_key);
  BatchHeader h;
  h.user_id = request.user_id;
  h.total = static_cast<int64_t>(request.memories.size());
  int64_t cap = std::max<int64_t>(1, rep_->config.features.max_concurrent_tasks);
  h.max_concurrency = request.max_concurrency > 0 ? std::min(request.max_concurrency, cap) : cap;
  // The caller's plan's schedule (the server's webhooks.retry_schedule_seconds by default).
  h.webhook_schedule_seconds =
      config::PlanOf(rep_->config, request.user_id).webhook_retry_schedule_seconds;
  h.retry = ResolveRetryPolicy(rep_->config.processing.retry, request.retry_policy);
  h.attempt_timeout_ms = std::max<int64_t>(30000, rep_->config.processing.timeout_ms * 2);
  h.tolerated_failure_count = request.tolerated_failure_count.value_or(-1);
  h.tolerated_failure_percentage = request.tolerated_failure_percentage.value_or(-1);
  h.webhook_url = request.webhook_url;
  h.body_hash = request.body_hash;
  h.idempotency_key = request.idempotency_key;
  for (const auto& m : request.memories) h.total_content_size += static_cast<int64_t>(m.content.size());
  // A replayed Idempotency-Key answers its batch: only a new batch passes admission.
  if (!request.idempotency_key.empty() && rep_->engine->Describe(id).ok()) {
    return rep_->Existing(id, request);
  }
  // Admission guards a running server; an engine that only records (engine-admin's direct
  // mode, server stopped) admits the operator's batch: the next server counts it.
  bool reserved = false;
  if (rep_->engine->started()) {
    RETURN_IF_ERROR(rep_->RestoreAdmission());
    if (rep_->config.cluster.enabled) RETURN_IF_ERROR(rep_->CountOtherNodesBatches(request.user_id));
    RETURN_IF_ERROR(rep_->admission.Admit(request.user_id, id, h.total, &reserved));
  }
  engine::StartOptions start;
  start.workflow_id = id;
  start.workflow_type = kWorkflowType;
  start.input = EncodeBatchHeader(h);
  // The secret is stored once, outside every event (histories are shown to operators and
  // the console).
  if (!request.webhook_secret.empty()) {
    start.blobs.emplace_back(kWebhookSecretBlob, request.webhook_secret);
  }
  start.owner = request.user_id;
  start.new_id = request.idempotency_key.empty();
  for (size_t first = 0, chunk = 0; first < request.memories.size(); first += kChunkSize, ++chunk) {
    size_t last = std::min(request.memories.size(), first + kChunkSize);
    std::vector<MemoryInput> part(std::make_move_iterator(request.memories.begin() + first),
                                  std::make_move_iterator(request.memories.begin() + last));
    start.blobs.emplace_back(MemoriesBlobName(static_cast<int64_t>(chunk)), EncodeMemories(part));
  }
  request.memories.clear();
  request.memories.shrink_to_fit();
  if (start.new_id) rep_->SeedCaches(id, h, start);
  Status started = rep_->engine->StartWorkflow(std::move(start));
  if (!started.ok() && reserved) rep_->admission.Release(id);
  if (started.code() == StatusCode::kAlreadyExists) return rep_->Existing(id, request);
  RETURN_IF_ERROR(started);
  if (reserved) {
    // Uncounted once its memories settle: the counts stay near the open batches, so a limit
    // seldom has to re-read every counted batch (a stall of every submit on a remote store).
    Rep* rep = rep_.get();
    SubscribeDone(id, [rep, id] { rep->admission.Release(id); });
  }
  return SubmitOutcome{id, id, true, false};
}

Result<BatchStatus> DurableBatchService::GetStatus(const std::string& user_id,
                                                   const std::string& batch_id) {
  auto record = rep_->engine->Describe(batch_id);
  // A store that cannot answer is not "not found" (the client retries a 503).
  if (!record.ok() && record.status().code() != StatusCode::kNotFound) return record.status();
  if (!record.ok() || record->owner != user_id ||
      record->workflow_type != kWorkflowType) {
    return Status::NotFound("batch " + batch_id + " not found");
  }
  // The attempts are read after the record, so a closed record comes with all of them. An
  // attempt runs only after the commit that set the memo (memories done): one seen with a
  // record from before that commit means the record is stale, and it is read again (an
  // answer never pairs an attempt with "processing").
  ASSIGN_OR_RETURN(auto attempts, rep_->ReadWebhookAttempts(batch_id));
  if (!attempts.empty() && record->status == engine::ExecutionStatus::kRunning &&
      record->memo.empty()) {
    ASSIGN_OR_RETURN(record, rep_->engine->Describe(batch_id));
  }
  return rep_->StatusOf(*record, &attempts);
}

Result<ResultsPage> DurableBatchService::GetResults(const std::string& user_id,
                                                    const std::string& batch_id, int64_t after,
                                                    int64_t limit) {
  ASSIGN_OR_RETURN(BatchStatus st, GetStatus(user_id, batch_id));
  int64_t start = std::max<int64_t>(0, after + 1);
  int64_t end = std::min(st.total, start + limit);
  ResultsPage page;
  if (start >= end) return page;
  // Outcome rows live in the execution that ran the memory: the root, or its chunk.
  std::vector<engine::ActivityRecord> rows;
  for (int64_t from = start; from < end;) {
    int64_t chunk_end = st.total > kChunkSize ? std::min(end, (from / kChunkSize + 1) * kChunkSize)
                                              : end;
    std::string owner_id = st.total > kChunkSize ? ChunkId(batch_id, from / kChunkSize) : batch_id;
    ASSIGN_OR_RETURN(auto part, rep_->engine->ReadActivities(owner_id, from - 1, chunk_end - from));
    rows.insert(rows.end(), part.begin(), part.end());
    from = chunk_end;
  }
  size_t r = 0;
  for (int64_t i = start; i < end; ++i) {
    ItemResult item;
    item.index = i;
    item.memory_id = MemoryProcessor::BatchMemoryId(batch_id, i);
    while (r < rows.size() && rows[r].activity_id < i) ++r;
    if (r < rows.size() && rows[r].activity_id == i &&
        rows[r].state != engine::ActivityState::kBackingOff) {
      bool ok = rows[r].state == engine::ActivityState::kSucceeded;
      item.state = ok ? ItemState::kSucceeded : ItemState::kFailed;
      item.error = ok ? "" : rows[r].error;
      if (ok) item.created_at_ms = DecodeInt(rows[r].payload);
      if (!ok) item.code = 500;
    } else if (IsTerminal(st.state)) {
      item.state = ItemState::kCanceled;
    }
    page.results.push_back(std::move(item));
  }
  if (end < st.total) page.next_after = end - 1;
  // Error codes of failed items come from the status' failure notes.
  for (auto& item : page.results) {
    if (item.state != ItemState::kFailed) continue;
    for (const auto& e : st.errors) {
      if (e.index == item.index) item.code = e.code;
    }
  }
  return page;
}

Result<BatchListPage> DurableBatchService::List(const std::string& user_id,
                                                std::optional<BatchState> state_filter,
                                                int64_t limit, const std::string& after) {
  // Scans the user's executions newest first until one match past a full page shows that
  // another page exists (so the last page has no cursor). Bounded for filtered listings.
  constexpr int64_t kScanPage = 200;
  constexpr int64_t kMaxScanned = 200000;
  BatchListPage page;
  std::string cursor = after, last_listed;  // engine listing cursors (they seek)
  bool more = false;
  for (int64_t scanned = 0; scanned < kMaxScanned && !more;) {
    ASSIGN_OR_RETURN(auto records, rep_->engine->ListByOwner(user_id, kScanPage, cursor));
    for (const auto& r : records) {
      cursor = engine::Engine::OwnerCursor(r);
      if (r.workflow_type != kWorkflowType) continue;
      if (static_cast<int64_t>(page.batches.size()) == limit && !state_filter) {
        more = true;  // unfiltered: any further batch is a next page
        break;
      }
      auto st = rep_->StatusOf(r);
      if (!st.ok() || (state_filter && st->state != *state_filter)) continue;
      if (static_cast<int64_t>(page.batches.size()) == limit) {
        more = true;
        break;
      }
      page.batches.push_back(std::move(st).value());
      last_listed = cursor;
    }
    scanned += static_cast<int64_t>(records.size());
    if (static_cast<int64_t>(records.size()) < kScanPage) break;  // the end
  }
  if (more) page.next_after = last_listed;
  return page;
}

Status DurableBatchService::Cancel(const std::string& user_id, const std::string& batch_id) {
  ASSIGN_OR_RETURN(BatchStatus st, GetStatus(user_id, batch_id));
  if (IsTerminal(st.state)) {
    return Status::FailedPrecondition("batch " + batch_id + " already finished as " +
                                      BatchStateName(st.state));
  }
  return rep_->engine->RequestCancel(batch_id, "cancelled through the API");
}

// Done means the batch's memories are all settled (memo set), which may be long before the
// execution closes (webhook retries): re-check after each commit until then.
bool DurableBatchService::SubscribeDone(const std::string& batch_id, std::function<void()> fn) {
  struct Waiter : std::enable_shared_from_this<Waiter> {
    engine::Engine* engine;
    std::string id;
    std::function<void()> fn;
    // Calls fn when done; otherwise waits for the next commit. An execution that is not
    // live (not resumed) gets no commit: the caller's own deadline answers from the record.
    void Check() {
      auto r = engine->Describe(id);
      if (!r.ok() || r->status != engine::ExecutionStatus::kRunning || !r->memo.empty()) {
        fn();
        return;
      }
      auto self = shared_from_this();
      engine->SubscribeOnce(id, [self] { self->Check(); });
    }
  };
  auto waiter = std::make_shared<Waiter>();
  waiter->engine = rep_->engine;
  waiter->id = batch_id;
  waiter->fn = std::move(fn);
  if (!rep_->engine->Describe(batch_id).ok()) return false;
  waiter->Check();
  return true;
}

bool DurableBatchService::SubscribeOnce(const std::string& batch_id, std::function<void()> fn) {
  return rep_->engine->SubscribeOnce(batch_id, std::move(fn));
}

}  // namespace papr::workflows
