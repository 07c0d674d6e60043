#include <algorithm>

#include "common/crypto.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "workflows/batch_codec.h"
#include "workflows/internal/durable_batch_rep.h"

namespace papr::workflows {

using namespace internal;  // NOLINT: this file implements the internal header

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
        // A chunk never outlives its batch: closing the root (e.g. terminate) terminates it.
        ctx.StartChildWorkflow(ChunkId(root, next), kChunkWorkflowType, EncodeBatchHeader(child),
                               engine::ParentClosePolicy::kTerminate);
        ++next;
        ++running;
      }
      if (running == 0) break;
      WorkflowEvent ev = co_await ctx.NextEvent();
      if (ev.kind != WorkflowEvent::Kind::kChild) continue;
      --running;
      RangeCounts child = DecodeSummary(ev.payload);
      if (ev.payload.empty()) {
        // Terminated or failed: no summary, but what it stored counts (its progress).
        child.ok = ev.child_succeeded;
        child.failed = ev.child_failed;
      }
      counts.ok += child.ok;
      counts.failed += child.failed;
      for (const auto& e : child.errors) counts.AddError(e.index, e.error);
      stopped_early = stopped_early || child.state == BatchState::kFailed || over_tolerance();
      ctx.SetProgress(counts.ok, counts.failed, 0);
    }
  } else {
    int64_t limit = std::max<int64_t>(1, h.max_concurrency);  // resolved at submit
    // A batch in flight across the upgrade keeps the options it was scheduling with.
    ActivityOptions options =
        ctx.GetVersion(kMemoryOptionsChange, WorkflowContext::kDefaultVersion, 1) == 1
            ? MemoryActivityOptions(h)
            : MemoryActivityOptions();
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
  counts.state = FinalState(cancelled, stopped_early, counts.ok, counts.failed, counts.canceled);
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
    if (ctx.GetVersion(kWebhookHeartbeatChange, WorkflowContext::kDefaultVersion, 1) == 1) {
      once.heartbeat_timeout_ms = kNetworkHeartbeatTimeoutMs;
    }
    int64_t retry_after_ms = 0;
    for (size_t attempt = 0; attempt < schedule.size(); ++attempt) {
      int64_t delay_ms = std::max(schedule[attempt] * 1000, retry_after_ms);
      if (delay_ms > 0) {
        ctx.StartTimer(kWebhookTimerBase + static_cast<int64_t>(attempt), delay_ms);
        // Not `while ((co_await ...).kind != ...) {}`: gcc 12 miscompiles a co_await in a loop
        // condition with an empty body (seen as SIGILL and as a coroutine that never wakes).
        for (bool fired = false; !fired;) {
          WorkflowEvent timer = co_await ctx.NextEvent();
          fired = timer.kind == WorkflowEvent::Kind::kTimer;
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

namespace {
std::string InputKey(const std::string& batch_id, int64_t chunk) {
  return batch_id + "\n" + std::to_string(chunk);
}
}  // namespace

void DurableBatchService::Rep::SeedCaches(const std::string& batch_id, const BatchHeader& header,
                                          const engine::StartOptions& start) {
  {
    std::lock_guard lock(cache_mu);
    if (headers.size() > 100000) headers.clear();
    headers.emplace(batch_id, header);
  }
  int64_t chunk = 0;  // the chunks' blobs are in chunk order
  for (const auto& [name, bytes] : start.blobs) {
    if (name == MemoriesBlobName(chunk)) inputs.InsertBlob(InputKey(batch_id, chunk++), bytes);
  }
}

Result<BatchInputCache::SlicePtr> DurableBatchService::Rep::Memories(const std::string& batch_id,
                                                                   int64_t chunk, int64_t offset) {
  const std::string key = InputKey(batch_id, chunk);
  if (auto hit = inputs.Find(key, offset)) return hit;
  std::lock_guard load_lock(load_mu);
  if (auto hit = inputs.Find(key, offset)) return hit;  // loaded while we waited
  BatchInputCache::BlobPtr blob = inputs.FindBlob(key);
  if (!blob) {
    ASSIGN_OR_RETURN(auto stored, engine->ReadBlob(batch_id, MemoriesBlobName(chunk)));
    if (!stored) return Status::NotFound("batch " + batch_id + " has no stored memories");
    blob = inputs.InsertBlob(key, std::move(*stored));
  }
  ASSIGN_OR_RETURN(MemorySlice slice, DecodeMemorySlice(*blob, offset));
  return inputs.Insert(key, std::move(slice));
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
  if (index < 0) return ActivityResult::Error("memory index out of range", "500", true);
  int64_t chunk = index / kChunkSize;
  int64_t offset = index - chunk * kChunkSize;
  auto slice = Memories(root, chunk, offset);
  if (!slice.ok()) {
    bool out_of_range = slice.status().code() == StatusCode::kInvalidArgument;
    return ActivityResult::Error(slice.status().message(), "500", out_of_range);
  }
  auto writes = std::make_shared<storage::WriteBatch>();
  MemoryTarget target{header->user_id, MemoryProcessor::BatchMemoryId(root, index), root, index,
                      writes.get(), [&call] { call.RecordHeartbeat(); }};
  // An id is this activity's alone: only an earlier attempt (or process) can have stored it.
  target.may_exist = call.attempt > 1 || call.resumed;
  auto stored = processor->Process(target, (*slice)->memories[offset - (*slice)->first]);
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
      webhooks->Attempt(req.url, secret->value_or(""), req.webhook_id, req.body,
                        [&call] { call.RecordHeartbeat(); });
  (attempt.delivered ? webhook_delivered : webhook_failed)++;
  log::Info("webhook attempt", {{"batch_id", call.workflow_id},
                                {"webhook_id", req.webhook_id},
                                {"status_code", std::to_string(attempt.status_code)},
                                {"delivered", attempt.delivered ? "true" : "false"},
                                {"error", attempt.error}});
  return ActivityResult::Ok(EncodeAttempt(attempt));
}

}  // namespace papr::workflows
