#include "workflows/durable_batch_service.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <list>
#include <mutex>
#include <unordered_map>

#include "common/byte_codec.h"
#include "common/crypto.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "engine/workflow_context.h"
#include "workflows/batch_codec.h"

namespace papr::workflows {
namespace {

using engine::ActivityOptions;
using engine::ActivityResult;
using engine::WorkflowContext;
using engine::WorkflowEvent;
using engine::WorkflowOutcome;
using engine::WorkflowTask;

constexpr const char* kProcessMemory = "process_memory";
constexpr const char* kDeliverWebhook = "deliver_webhook";
// Memories are stored in blobs of kChunkSize, "memories/<chunk>", so a chunk's activities
// load (and cache) only their own part of a big batch.
std::string MemoriesBlobName(int64_t chunk) { return "memories/" + std::to_string(chunk); }
constexpr const char* kWebhookSecretBlob = "webhook_secret";
// Webhook attempts use activity ids from here on, far above any memory index.
constexpr int64_t kWebhookActivityBase = int64_t{1} << 60;
constexpr int64_t kWebhookTimerBase = 1;

std::string EncodeInt(int64_t v) {
  std::string out;
  PutSignedVarint64(&out, v);
  return out;
}

int64_t DecodeInt(std::string_view in) {
  int64_t v = -1;
  return GetSignedVarint64(&in, &v) ? v : -1;
}

constexpr int64_t kChunkSize = 10000;
constexpr int64_t kChunksInFlight = 2;
constexpr const char* kChunkWorkflowType = "batch_memory_chunk";

std::string ChunkId(const std::string& root, int64_t chunk) {
  return root + "/chunk-" + std::to_string(chunk);
}

//! What a batch or chunk execution returns: its final state and counts.
struct RangeCounts {
  BatchState state = BatchState::kCompleted;
  int64_t ok = 0, failed = 0, canceled = 0;
  std::vector<ItemError> errors;  // the first 100 failed memories, for the webhook payload

  void AddError(int64_t index, const std::string& error) {
    if (errors.size() < 100) errors.push_back({index, error, 0});
  }
};

std::string EncodeSummary(const RangeCounts& c) {
  std::string out(1, static_cast<char>(c.state));
  PutSignedVarint64(&out, c.ok);
  PutSignedVarint64(&out, c.failed);
  PutSignedVarint64(&out, c.canceled);
  PutVarint64(&out, c.errors.size());
  for (const auto& e : c.errors) {
    PutSignedVarint64(&out, e.index);
    PutLengthPrefixed(&out, e.error);
  }
  return out;
}

RangeCounts DecodeSummary(std::string_view in) {
  RangeCounts c;
  if (in.empty()) return c;
  c.state = static_cast<BatchState>(in[0]);
  in.remove_prefix(1);
  if (!GetSignedVarint64(&in, &c.ok) || !GetSignedVarint64(&in, &c.failed) ||
      !GetSignedVarint64(&in, &c.canceled)) {
    c.state = BatchState::kFailed;
    return c;
  }
  uint64_t n = 0;
  if (!GetVarint64(&in, &n)) return c;
  for (uint64_t i = 0; i < n && i < 100; ++i) {
    ItemError e;
    if (!GetSignedVarint64(&in, &e.index) || !GetLengthPrefixed(&in, &e.error)) break;
    c.errors.push_back(std::move(e));
  }
  return c;
}

// The final state of a batch, carried as the workflow's result.
BatchState FinalState(bool cancelled, bool stopped_early, int64_t ok, int64_t failed) {
  if (cancelled) return BatchState::kCancelled;
  if (stopped_early || (ok == 0 && failed > 0)) return BatchState::kFailed;
  return failed == 0 ? BatchState::kCompleted : BatchState::kPartial;
}

struct WebhookRequest {
  std::string url, batch_id, webhook_id, body;  // batch_id: whose blob holds the secret
};

std::string EncodeWebhookRequest(const WebhookRequest& r) {
  std::string out;
  for (const auto* s : {&r.url, &r.batch_id, &r.webhook_id, &r.body}) PutLengthPrefixed(&out, *s);
  return out;
}

bool DecodeWebhookRequest(std::string_view in, WebhookRequest* r) {
  return GetLengthPrefixed(&in, &r->url) && GetLengthPrefixed(&in, &r->batch_id) &&
         GetLengthPrefixed(&in, &r->webhook_id) && GetLengthPrefixed(&in, &r->body);
}

// Attempt outcome as activity payload: delivered, status code, stop, retry-after.
std::string EncodeAttempt(const WebhookAttempt& a) {
  std::string out;
  PutSignedVarint64(&out, a.delivered);
  PutSignedVarint64(&out, a.status_code);
  PutSignedVarint64(&out, a.stop_retrying);
  PutSignedVarint64(&out, a.retry_after_seconds);
  PutLengthPrefixed(&out, a.error);
  return out;
}

WebhookAttempt DecodeAttempt(std::string_view in) {
  WebhookAttempt a;
  int64_t delivered = 0, stop = 0;
  if (GetSignedVarint64(&in, &delivered) && GetSignedVarint64(&in, &a.status_code) &&
      GetSignedVarint64(&in, &stop) && GetSignedVarint64(&in, &a.retry_after_seconds)) {
    GetLengthPrefixed(&in, &a.error);
  }
  a.delivered = delivered != 0;
  a.stop_retrying = stop != 0;
  return a;
}

// Children the execution started, from its history (StartChildWorkflowExecutionInitiated).
Result<std::vector<std::string>> ChildIds(const engine::Engine& engine, const std::string& id) {
  ASSIGN_OR_RETURN(auto events, engine.ReadHistory(id));
  std::vector<std::string> ids;
  for (const auto& e : events) {
    if (e.type == engine::EventType::kStartChildWorkflowExecutionInitiated) {
      ids.push_back(e.child_workflow_id);
    }
  }
  return ids;
}

Status RequireRunning(const engine::Engine& engine, const std::string& id) {
  ASSIGN_OR_RETURN(engine::ExecutionRecord r, engine.Describe(id));
  if (r.status != engine::ExecutionStatus::kRunning) {
    return Status::FailedPrecondition("workflow " + id + " is already " +
                                      engine::ExecutionStatusName(r.status));
  }
  return Status::Ok();
}

// The execution `id` if `user_id` owns it; NotFound otherwise (as for a missing one).
Result<engine::ExecutionRecord> OwnedExecution(const engine::Engine& engine,
                                               const std::string& user_id,
                                               const std::string& id) {
  auto record = engine.Describe(id);
  if (!record.ok() || record->owner != user_id) {
    return Status::NotFound("workflow " + id + " not found");
  }
  return record;
}

// The memories of batch `id` whose activity rows say failed, in index order. A batch above
// kChunkSize ran its memories in child executions: their rows are there.
Result<std::vector<int64_t>> FailedIndexes(const engine::Engine& engine, const std::string& id,
                                           int64_t total) {
  std::vector<std::string> owners = {id};
  ASSIGN_OR_RETURN(auto children, ChildIds(engine, id));
  owners.insert(owners.end(), children.begin(), children.end());
  std::vector<int64_t> failed;
  for (const auto& owner : owners) {
    ASSIGN_OR_RETURN(auto rows,
                     engine.ReadActivities(owner, -1, std::numeric_limits<int64_t>::max() / 2));
    for (const auto& row : rows) {
      // Activity ids below `total` are memory indexes (webhook attempts use far larger ids).
      if (row.state == engine::ActivityState::kFailed && row.activity_id < total) {
        failed.push_back(row.activity_id);
      }
    }
  }
  std::sort(failed.begin(), failed.end());
  failed.erase(std::unique(failed.begin(), failed.end()), failed.end());
  return failed;
}

// The stored memories of batch `id` at `indexes` (ascending), one blob per chunk.
Result<std::vector<MemoryInput>> LoadMemories(const engine::Engine& engine, const std::string& id,
                                              const std::vector<int64_t>& indexes) {
  std::vector<MemoryInput> out;
  int64_t loaded_chunk = -1;
  std::vector<MemoryInput> chunk;
  for (int64_t index : indexes) {
    if (index / kChunkSize != loaded_chunk) {
      loaded_chunk = index / kChunkSize;
      ASSIGN_OR_RETURN(auto blob, engine.ReadBlob(id, MemoriesBlobName(loaded_chunk)));
      if (!blob) {
        return Status::NotFound("batch " + id + " has no stored memories (blob " +
                                MemoriesBlobName(loaded_chunk) + ")");
      }
      ASSIGN_OR_RETURN(chunk, DecodeMemories(*blob));
    }
    auto offset = static_cast<size_t>(index - loaded_chunk * kChunkSize);
    if (offset >= chunk.size()) {
      return Status::Corruption("memory " + std::to_string(index) + " is not in its blob");
    }
    out.push_back(chunk[offset]);
  }
  return out;
}

}  // namespace

struct DurableBatchService::Rep {
  const config::Config& config;
  engine::Engine* engine;
  MemoryProcessor* processor;
  WebhookSender* webhooks;
  const Clock* clock;

  // Decoded inputs of recently active batches (activities read them on every memory).
  std::mutex cache_mu;
  std::list<std::pair<std::string, std::shared_ptr<const std::vector<MemoryInput>>>> memories_lru;
  std::mutex load_mu;
  std::atomic<int64_t> webhook_delivered{0}, webhook_failed{0};  // one loader at a time: concurrent misses would each decode the blob
  std::unordered_map<std::string, BatchHeader> headers;

  Rep(const config::Config& c, engine::Engine* e, MemoryProcessor* p, WebhookSender* w,
      const Clock* clk)
      : config(c), engine(e), processor(p), webhooks(w), clock(clk) {}

  WorkflowTask BatchWorkflow(WorkflowContext& ctx, std::string input);
  ActivityResult ProcessMemory(const engine::ActivityCall& call);
  ActivityResult DeliverWebhook(const engine::ActivityCall& call);
  // The decoded memories of chunk `chunk` of batch `batch_id` (cached).
  Result<std::shared_ptr<const std::vector<MemoryInput>>> Memories(const std::string& batch_id,
                                                                   int64_t chunk);
  Result<BatchHeader> Header(const std::string& batch_id);
  Result<BatchStatus> StatusOf(const engine::ExecutionRecord& record);
  // Applies `op` to each open child of `id` (after the parent, so no parent reacts to a child
  // it is about to lose); a child's failure is reported in `report` (optional), not returned.
  Status ForOpenChildren(const std::string& id,
                         const std::function<Status(const std::string&)>& op,
                         std::vector<ChildAction>* report);
  ActivityOptions MemoryActivityOptions() const {
    ActivityOptions o;
    o.retry.initial_interval_ms = 200;
    o.retry.backoff_coefficient = 2.0;
    o.retry.maximum_interval_ms = 10000;
    o.retry.maximum_attempts = 5;
    o.retry.non_retryable_error_types = {"422"};
    o.start_to_close_timeout_ms = std::max<int64_t>(30000, config.processing.timeout_ms * 2);
    return o;
  }
};

// The batch workflow. A range of at most kChunkSize memories fans out one activity per memory
// with at most `limit` in flight; a bigger range runs its chunks as child workflows (two at a
// time), so no history grows past ~3 x kChunkSize events. It stops early past the tolerated
// failures or on cancel; the root then delivers the webhook on the schedule. Deterministic:
// everything it observes comes from the context.
WorkflowTask DurableBatchService::Rep::BatchWorkflow(WorkflowContext& ctx, std::string input) {
  auto decoded = DecodeBatchHeader(input);
  if (!decoded.ok()) co_return WorkflowOutcome::Failed(decoded.status().message());
  const BatchHeader h = std::move(decoded).value();
  const bool is_root = h.root_batch_id.empty();
  const std::string root = is_root ? ctx.workflow_id() : h.root_batch_id;
  const int64_t lo = is_root ? 0 : h.lo, hi = is_root ? h.total : h.hi, size = hi - lo;
  RangeCounts counts;
  bool stopped_early = false;
  auto over_tolerance = [&] {
    bool over_count = h.tolerated_failure_count >= 0 && counts.failed > h.tolerated_failure_count;
    bool over_pct = h.tolerated_failure_percentage >= 0 &&
                    100.0 * static_cast<double>(counts.failed) / static_cast<double>(size) >
                        h.tolerated_failure_percentage;
    return over_count || over_pct;
  };
  if (size > kChunkSize) {
    int64_t chunks = (size + kChunkSize - 1) / kChunkSize, next = 0, running = 0;
    while (true) {
      while (!ctx.CancelRequested() && !stopped_early && running < kChunksInFlight &&
             next < chunks) {
        BatchHeader child = h;
        child.root_batch_id = root;
        child.lo = lo + next * kChunkSize;
        child.hi = std::min(hi, child.lo + kChunkSize);
        child.webhook_url.clear();
        if (h.tolerated_failure_count >= 0) {
          child.tolerated_failure_count = std::max<int64_t>(0, h.tolerated_failure_count - counts.failed);
        }
        ctx.StartChildWorkflow(ChunkId(root, next), kChunkWorkflowType, EncodeBatchHeader(child));
        ++next;
        ++running;
      }
      if (running == 0) break;
      WorkflowEvent ev = co_await ctx.NextEvent();
      if (ev.kind != WorkflowEvent::Kind::kChild) continue;
      --running;
      RangeCounts child = DecodeSummary(ev.payload);
      counts.ok += child.ok;
      counts.failed += child.failed;
      for (const auto& e : child.errors) counts.AddError(e.index, e.error);
      stopped_early = stopped_early || child.state == BatchState::kFailed || over_tolerance();
      ctx.SetProgress(counts.ok, counts.failed, 0);
    }
  } else {
    int64_t limit = std::max<int64_t>(1, h.max_concurrency);  // resolved at submit
    ActivityOptions options = MemoryActivityOptions();
    int64_t next = lo, in_flight = 0;
    while (true) {
      while (!ctx.CancelRequested() && !stopped_early && in_flight < limit && next < hi) {
        ctx.StartActivity(kProcessMemory, EncodeInt(next), options, next);
        ++next;
        ++in_flight;
      }
      if (in_flight == 0) break;
      WorkflowEvent ev = co_await ctx.NextEvent();
      if (ev.kind != WorkflowEvent::Kind::kActivity) continue;  // cancel: stop scheduling
      --in_flight;
      (ev.ok ? counts.ok : counts.failed)++;
      if (!ev.ok) counts.AddError(ev.activity_id, ev.error);
      stopped_early = stopped_early || over_tolerance();
      ctx.SetProgress(counts.ok, counts.failed, 0);
    }
  }
  bool cancelled = ctx.CancelRequested() && counts.ok + counts.failed < size;
  counts.canceled = size - counts.ok - counts.failed;
  ctx.SetProgress(counts.ok, counts.failed, counts.canceled);
  counts.state = FinalState(cancelled, stopped_early, counts.ok, counts.failed);
  // The batch is over for its readers now, even while the webhook below is retried.
  ctx.SetMemo(EncodeSummary(counts));

  if (is_root && !h.webhook_url.empty()) {
    BatchStatus st;
    st.batch_id = root;
    st.state = counts.state;
    st.total = h.total;
    st.succeeded = counts.ok;
    st.failed = counts.failed;
    st.canceled = counts.canceled;
    st.errors = counts.errors;
    st.created_at_ms = st.started_at_ms = ctx.StartMillis();
    st.completed_at_ms = ctx.NowMillis();
    // The secret never enters the history: the activity reads it from the batch's blob.
    WebhookRequest req{h.webhook_url, root, "msg_" + Sha256Hex(root).substr(0, 24), ""};
    req.body = WebhookSender::BuildPayload(st, ctx.NowMillis());
    const auto& schedule = h.webhook_schedule_seconds;
    ActivityOptions once;
    once.retry.maximum_attempts = 1;
    int64_t retry_after_ms = 0;
    for (size_t attempt = 0; attempt < schedule.size(); ++attempt) {
      int64_t delay_ms = std::max(schedule[attempt] * 1000, retry_after_ms);
      if (delay_ms > 0) {
        ctx.StartTimer(kWebhookTimerBase + static_cast<int64_t>(attempt), delay_ms);
        while ((co_await ctx.NextEvent()).kind != WorkflowEvent::Kind::kTimer) {
        }
      }
      ctx.StartActivity(kDeliverWebhook, EncodeWebhookRequest(req), once,
                        kWebhookActivityBase + static_cast<int64_t>(attempt));
      WorkflowEvent ev = co_await ctx.NextEvent();
      while (ev.kind != WorkflowEvent::Kind::kActivity) ev = co_await ctx.NextEvent();
      WebhookAttempt result = DecodeAttempt(ev.payload);
      if (result.delivered || result.stop_retrying) break;
      retry_after_ms = result.retry_after_seconds > 0 ? result.retry_after_seconds * 1000 : 0;
    }
  }
  std::string summary = EncodeSummary(counts);
  if (counts.state == BatchState::kCancelled) co_return WorkflowOutcome::Canceled(summary);
  co_return WorkflowOutcome::Completed(summary);
}

Result<std::shared_ptr<const std::vector<MemoryInput>>> DurableBatchService::Rep::Memories(
    const std::string& batch_id, int64_t chunk) {
  const std::string key = batch_id + "\n" + std::to_string(chunk);
  auto cached = [&]() -> std::shared_ptr<const std::vector<MemoryInput>> {
    std::lock_guard lock(cache_mu);
    for (auto it = memories_lru.begin(); it != memories_lru.end(); ++it) {
      if (it->first == key) {
        memories_lru.splice(memories_lru.begin(), memories_lru, it);
        return it->second;
      }
    }
    return nullptr;
  };
  if (auto hit = cached()) return hit;
  std::lock_guard load_lock(load_mu);
  if (auto hit = cached()) return hit;  // loaded while we waited
  ASSIGN_OR_RETURN(auto blob, engine->ReadBlob(batch_id, MemoriesBlobName(chunk)));
  if (!blob) return Status::NotFound("batch " + batch_id + " has no stored memories");
  ASSIGN_OR_RETURN(auto memories, DecodeMemories(*blob));
  auto shared = std::make_shared<const std::vector<MemoryInput>>(std::move(memories));
  std::lock_guard lock(cache_mu);
  memories_lru.emplace_front(key, shared);
  if (memories_lru.size() > 8) memories_lru.pop_back();
  return shared;
}

Result<BatchHeader> DurableBatchService::Rep::Header(const std::string& batch_id) {
  {
    std::lock_guard lock(cache_mu);
    auto it = headers.find(batch_id);
    if (it != headers.end()) return it->second;
  }
  ASSIGN_OR_RETURN(auto first, engine->ReadHistory(batch_id, 0, 1));
  if (first.empty()) return Status::NotFound("batch " + batch_id + " not found");
  ASSIGN_OR_RETURN(BatchHeader h, DecodeBatchHeader(first.front().payload));
  std::lock_guard lock(cache_mu);
  if (headers.size() > 100000) headers.clear();
  headers[batch_id] = h;
  return h;
}

ActivityResult DurableBatchService::Rep::ProcessMemory(const engine::ActivityCall& call) {
  int64_t index = DecodeInt(call.input);
  auto header = Header(call.workflow_id);
  if (!header.ok()) return ActivityResult::Error(header.status().message(), "500", false);
  const std::string root =
      header->root_batch_id.empty() ? call.workflow_id : header->root_batch_id;
  int64_t chunk = index / kChunkSize;
  auto memories = Memories(root, chunk);
  if (!memories.ok()) return ActivityResult::Error(memories.status().message(), "500", false);
  int64_t offset = index - chunk * kChunkSize;
  if (index < 0 || offset >= static_cast<int64_t>((*memories)->size())) {
    return ActivityResult::Error("memory index out of range", "500", true);
  }
  auto writes = std::make_shared<storage::WriteBatch>();
  MemoryTarget target{header->user_id, MemoryProcessor::BatchMemoryId(root, index), root, index,
                      writes.get()};
  auto stored = processor->Process(target, (**memories)[offset]);
  if (!stored.ok()) {
    int64_t code = ItemErrorCode(stored.status());
    return ActivityResult::Error(stored.status().message(), std::to_string(code), code == 422);
  }
  // The memory is stored by the commit that records this activity's completion.
  ActivityResult result = ActivityResult::Ok(EncodeInt(stored->created_at_ms));
  result.writes = std::move(writes);
  return result;
}

ActivityResult DurableBatchService::Rep::DeliverWebhook(const engine::ActivityCall& call) {
  WebhookRequest req;
  if (!DecodeWebhookRequest(call.input, &req)) {
    return ActivityResult::Error("bad webhook request", "500", true);
  }
  auto secret = engine->ReadBlob(req.batch_id, kWebhookSecretBlob);
  if (!secret.ok()) return ActivityResult::Error(secret.status().message(), "500", false);
  WebhookAttempt attempt =
      webhooks->Attempt(req.url, secret->value_or(""), req.webhook_id, req.body);
  (attempt.delivered ? webhook_delivered : webhook_failed)++;
  log::Info("webhook attempt", {{"batch_id", call.workflow_id},
                                {"webhook_id", req.webhook_id},
                                {"status_code", std::to_string(attempt.status_code)},
                                {"delivered", attempt.delivered ? "true" : "false"},
                                {"error", attempt.error}});
  return ActivityResult::Ok(EncodeAttempt(attempt));
}

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

Result<BatchStatus> DurableBatchService::Rep::StatusOf(const engine::ExecutionRecord& r) {
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
    // Closed chunks are in the root's progress; running ones add their live counts.
    for (int64_t k = 0; k * kChunkSize < h.total; ++k) {
      auto chunk = engine->Describe(ChunkId(r.workflow_id, k));
      if (!chunk.ok()) break;  // not started yet
      st.retries += chunk->activity_retries;
      if (chunk->status == engine::ExecutionStatus::kRunning) {
        st.succeeded += chunk->progress_succeeded;
        st.failed += chunk->progress_failed;
        pending += chunk->activities_pending();
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
    default:
      st.state = BatchState::kFailed;
  }
  st.webhook.url = h.webhook_url;
  if (!h.webhook_url.empty()) {
    ASSIGN_OR_RETURN(auto rows, engine->ReadActivities(r.workflow_id, kWebhookActivityBase - 1, 100));
    st.webhook.state = WebhookState::kPending;
    for (const auto& row : rows) {
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

Result<std::string> DurableBatchService::HistoryJson(const std::string& user_id,
                                                    const std::string& workflow_id,
                                                    int64_t after, int64_t limit) {
  auto record = rep_->engine->Describe(workflow_id);
  if (!record.ok() || record->owner != user_id) {
    return Status::NotFound("workflow " + workflow_id + " not found");
  }
  ASSIGN_OR_RETURN(auto events, rep_->engine->ReadHistory(workflow_id, after, limit));
  JsonWriter w;
  w.BeginObject().Field("workflow_id", workflow_id).Field("workflow_type", record->workflow_type);
  w.Field("status", engine::ExecutionStatusName(record->status));
  w.Field("history_length", record->next_event_id - 1);
  w.Key("events").BeginArray();
  for (const auto& e : events) {
    std::string details = engine::DescribeEvent(e);
    // DescribeEvent starts with "<id> <Type>"; the rest are the attributes.
    size_t attrs = details.find(' ', details.find(' ') + 1);
    w.BeginObject().Field("event_id", e.event_id).Field("type", engine::EventTypeName(e.type));
    w.Field("time", FormatRfc3339(e.time_ms));
    w.Field("details", attrs == std::string::npos ? "" : details.substr(attrs + 1));
    if (e.activity_id != 0 || e.type == engine::EventType::kActivityTaskScheduled) {
      w.Field("activity_id", e.activity_id);
    }
    if (!e.child_workflow_id.empty()) w.Field("child_workflow_id", e.child_workflow_id);
    w.EndObject();
  }
  w.EndArray().Key("next_after");
  bool more = !events.empty() && limit > 0 && static_cast<int64_t>(events.size()) == limit &&
              events.back().event_id < record->next_event_id - 1;
  if (more) {
    w.Int(events.back().event_id);
  } else {
    w.Null();
  }
  w.EndObject();
  return w.Take();
}

std::string DurableBatchService::MetricsText() const {
  std::string out = rep_->engine->MetricsText();
  out += "# HELP papr_webhook_attempts_total Webhook delivery attempts by outcome.\n";
  out += "# TYPE papr_webhook_attempts_total counter\n";
  out += "papr_webhook_attempts_total{outcome=\"delivered\"} " +
         std::to_string(rep_->webhook_delivered.load()) + "\n";
  out += "papr_webhook_attempts_total{outcome=\"failed\"} " +
         std::to_string(rep_->webhook_failed.load()) + "\n";
  return out;
}

Result<SubmitOutcome> DurableBatchService::Submit(BatchRequest request) {
  std::string id = request.idempotency_key.empty()
                       ? RandomUuid()
                       : DeterministicUuid("idempotency:" + request.user_id + "\n" +
                                           request.idempotency_key);
  BatchHeader h;
  h.user_id = request.user_id;
  h.total = static_cast<int64_t>(request.memories.size());
  int64_t cap = std::max<int64_t>(1, rep_->config.features.max_concurrent_tasks);
  h.max_concurrency = request.max_concurrency > 0 ? std::min(request.max_concurrency, cap) : cap;
  h.webhook_schedule_seconds = rep_->config.webhooks.retry_schedule_seconds;
  h.tolerated_failure_count = request.tolerated_failure_count.value_or(-1);
  h.tolerated_failure_percentage = request.tolerated_failure_percentage.value_or(-1);
  h.webhook_url = request.webhook_url;
  h.body_hash = request.body_hash;
  h.idempotency_key = request.idempotency_key;
  for (const auto& m : request.memories) h.total_content_size += static_cast<int64_t>(m.content.size());
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
  for (size_t first = 0, chunk = 0; first < request.memories.size(); first += kChunkSize, ++chunk) {
    size_t last = std::min(request.memories.size(), first + kChunkSize);
    std::vector<MemoryInput> part(std::make_move_iterator(request.memories.begin() + first),
                                  std::make_move_iterator(request.memories.begin() + last));
    start.blobs.emplace_back(MemoriesBlobName(static_cast<int64_t>(chunk)), EncodeMemories(part));
  }
  request.memories.clear();
  request.memories.shrink_to_fit();
  Status started = rep_->engine->StartWorkflow(std::move(start));
  if (started.code() == StatusCode::kAlreadyExists) {
    auto existing = rep_->Header(id);
    if (!existing.ok()) return existing.status();
    if (existing->user_id != request.user_id) return Status::Internal("batch id collision");
    if (existing->body_hash != request.body_hash) {
      return Status::InvalidArgument("Idempotency-Key was already used with a different request body");
    }
    return SubmitOutcome{id, id, true, true};
  }
  RETURN_IF_ERROR(started);
  return SubmitOutcome{id, id, true, false};
}

Result<BatchStatus> DurableBatchService::GetStatus(const std::string& user_id,
                                                   const std::string& batch_id) {
  auto record = rep_->engine->Describe(batch_id);
  if (!record.ok() || record->owner != user_id ||
      record->workflow_type != kWorkflowType) {
    return Status::NotFound("batch " + batch_id + " not found");
  }
  return rep_->StatusOf(*record);
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
  std::string cursor = after;
  bool more = false;
  for (int64_t scanned = 0; scanned < kMaxScanned && !more;) {
    ASSIGN_OR_RETURN(auto records, rep_->engine->ListByOwner(user_id, kScanPage, cursor));
    for (const auto& r : records) {
      cursor = r.workflow_id;
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
    }
    scanned += static_cast<int64_t>(records.size());
    if (static_cast<int64_t>(records.size()) < kScanPage) break;  // the end
  }
  if (more) page.next_after = page.batches.back().batch_id;
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
    bool Check() {
      auto r = engine->Describe(id);
      if (!r.ok() || r->status != engine::ExecutionStatus::kRunning || !r->memo.empty()) {
        fn();
        return true;
      }
      auto self = shared_from_this();
      return engine->SubscribeOnce(id, [self] { self->Check(); });
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

// ---- operator actions

Status DurableBatchService::TerminateExecution(const std::string& workflow_id,
                                               const std::string& reason,
                                               std::vector<ChildAction>* children) {
  engine::Engine& engine = *rep_->engine;
  RETURN_IF_ERROR(RequireRunning(engine, workflow_id));
  RETURN_IF_ERROR(engine.Terminate(workflow_id, reason));
  return rep_->ForOpenChildren(
      workflow_id,
      [&](const std::string& child) {
        return engine.Terminate(child, "parent " + workflow_id + " terminated: " + reason);
      },
      children);
}

Status DurableBatchService::CancelExecution(const std::string& workflow_id,
                                            const std::string& reason,
                                            std::vector<ChildAction>* children) {
  engine::Engine& engine = *rep_->engine;
  RETURN_IF_ERROR(RequireRunning(engine, workflow_id));
  RETURN_IF_ERROR(engine.RequestCancel(workflow_id, reason));
  // A second cancel request of a child (the engine passes one on too) is a no-op.
  return rep_->ForOpenChildren(
      workflow_id, [&](const std::string& child) { return engine.RequestCancel(child, reason); },
      children);
}

Status DurableBatchService::SignalExecution(const std::string& workflow_id,
                                            const std::string& name, const std::string& input) {
  RETURN_IF_ERROR(RequireRunning(*rep_->engine, workflow_id));
  return rep_->engine->Signal(workflow_id, name, input);
}

Result<BatchRequest> DurableBatchService::RetryRequestFor(const std::string& batch_id,
                                                          std::vector<int64_t>* failed_indexes) {
  const engine::Engine& engine = *rep_->engine;
  ASSIGN_OR_RETURN(engine::ExecutionRecord record, engine.Describe(batch_id));
  if (record.workflow_type != kWorkflowType) {
    return Status::InvalidArgument("workflow " + batch_id + " is a " + record.workflow_type +
                                   ", not a batch (retry the root batch)");
  }
  if (record.status == engine::ExecutionStatus::kRunning) {
    return Status::FailedPrecondition("batch " + batch_id + " is still running");
  }
  ASSIGN_OR_RETURN(BatchHeader h, rep_->Header(batch_id));
  ASSIGN_OR_RETURN(*failed_indexes, FailedIndexes(engine, batch_id, h.total));
  if (failed_indexes->empty()) {
    return Status::FailedPrecondition("batch " + batch_id + " has no failed memories");
  }
  BatchRequest request;
  request.user_id = h.user_id;
  ASSIGN_OR_RETURN(request.memories, LoadMemories(engine, batch_id, *failed_indexes));
  request.max_concurrency = h.max_concurrency;
  if (h.tolerated_failure_count >= 0) request.tolerated_failure_count = h.tolerated_failure_count;
  if (h.tolerated_failure_percentage >= 0) {
    request.tolerated_failure_percentage = h.tolerated_failure_percentage;
  }
  request.webhook_url = h.webhook_url;
  ASSIGN_OR_RETURN(auto secret, engine.ReadBlob(batch_id, kWebhookSecretBlob));
  request.webhook_secret = secret.value_or("");
  // Retrying the same batch again finds this retry (Submit's idempotency), not a second one.
  // The key keeps its engine-admin name: batch ids derive from it.
  request.idempotency_key = "engine-admin-retry:" + batch_id;
  std::string signature = batch_id;
  for (int64_t i : *failed_indexes) signature += "," + std::to_string(i);
  request.body_hash = Sha256Hex(signature);
  return request;
}

Status DurableBatchService::AdminTerminate(const std::string& user_id,
                                           const std::string& workflow_id,
                                           const std::string& reason) {
  RETURN_IF_ERROR(OwnedExecution(*rep_->engine, user_id, workflow_id).status());
  return TerminateExecution(workflow_id, reason);
}

Status DurableBatchService::AdminCancel(const std::string& user_id,
                                        const std::string& workflow_id,
                                        const std::string& reason) {
  RETURN_IF_ERROR(OwnedExecution(*rep_->engine, user_id, workflow_id).status());
  return CancelExecution(workflow_id, reason);
}

Status DurableBatchService::AdminSignal(const std::string& user_id,
                                        const std::string& workflow_id, const std::string& name,
                                        const std::string& input_json) {
  RETURN_IF_ERROR(OwnedExecution(*rep_->engine, user_id, workflow_id).status());
  return SignalExecution(workflow_id, name, input_json);
}

Result<SubmitOutcome> DurableBatchService::AdminRetry(const std::string& user_id,
                                                      const std::string& batch_id) {
  RETURN_IF_ERROR(OwnedExecution(*rep_->engine, user_id, batch_id).status());
  std::vector<int64_t> failed;
  ASSIGN_OR_RETURN(BatchRequest request, RetryRequestFor(batch_id, &failed));
  return Submit(std::move(request));
}

Result<WorkflowState> DurableBatchService::AdminDescribe(const std::string& user_id,
                                                         const std::string& workflow_id) {
  ASSIGN_OR_RETURN(engine::ExecutionRecord r, OwnedExecution(*rep_->engine, user_id, workflow_id));
  return WorkflowState{r.workflow_type, engine::ExecutionStatusName(r.status), r.cancel_requested};
}

}  // namespace papr::workflows
