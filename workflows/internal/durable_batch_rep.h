#pragma once
// Internal to the durable batch service, shared by durable_batch_service.cc (public API),
// durable_batch_workflow.cc (workflow and activities), durable_batch_admin.cc (operator
// actions), durable_batch_records.cc (payload encodings), durable_batch_payloads.cc (how they
// read) and durable_batch_history.cc (the history endpoint). Include only from those.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/payload_format.h"
#include "engine/workflow_context.h"
#include "workflows/admission_control.h"
#include "workflows/batch_codec.h"
#include "workflows/batch_input_cache.h"
#include "workflows/durable_batch_service.h"

namespace papr::workflows {
namespace internal {

using engine::ActivityOptions;
using engine::ActivityResult;
using engine::WorkflowContext;
using engine::WorkflowEvent;
using engine::WorkflowOutcome;
using engine::WorkflowTask;

constexpr const char* kProcessMemory = "process_memory";
constexpr const char* kDeliverWebhook = "deliver_webhook";
// Activities that wait on the network heartbeat about every second while they wait (the HTTP
// client's progress callback); one silent this long is retried.
constexpr int64_t kNetworkHeartbeatTimeoutMs = 10000;
// Memories are stored in blobs of kChunkSize, "memories/<chunk>", so a chunk's activities
// load (and cache) only their own part of a big batch.
inline std::string MemoriesBlobName(int64_t chunk) { return "memories/" + std::to_string(chunk); }
constexpr const char* kWebhookSecretBlob = "webhook_secret";
// Webhook attempts use activity ids from here on, far above any memory index.
constexpr int64_t kWebhookActivityBase = int64_t{1} << 60;
constexpr int64_t kWebhookTimerBase = 1;
constexpr int64_t kChunkSize = 10000;
constexpr int64_t kChunksInFlight = 2;
constexpr const char* kChunkWorkflowType = "batch_memory_chunk";
// GetVersion change ids of the batch workflow.
// 1: memory activity options from the batch header (recorded at submit), not config/code.
constexpr const char* kMemoryOptionsChange = "memory-options-from-header";
// Version 1: webhook attempts carry a heartbeat timeout (histories from before record none).
constexpr const char* kWebhookHeartbeatChange = "webhook-heartbeat";

inline std::string ChunkId(const std::string& root, int64_t chunk) {
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

std::string EncodeInt(int64_t v);
int64_t DecodeInt(std::string_view in);  // -1 when malformed
std::string EncodeSummary(const RangeCounts& c);
RangeCounts DecodeSummary(std::string_view in);
// The final state of a batch, carried as the workflow's result.
// `canceled`: memories that never ran (e.g. of a terminated chunk): not all succeeded.
BatchState FinalState(bool cancelled, bool stopped_early, int64_t ok, int64_t failed,
                      int64_t canceled);

struct WebhookRequest {
  std::string url, batch_id, webhook_id, body;  // batch_id: whose blob holds the secret
};
std::string EncodeWebhookRequest(const WebhookRequest& r);
bool DecodeWebhookRequest(std::string_view in, WebhookRequest* r);
// Attempt outcome as activity payload: delivered, status code, stop, retry-after.
std::string EncodeAttempt(const WebhookAttempt& a);
WebhookAttempt DecodeAttempt(std::string_view in);

// Children the execution started, from its history (StartChildWorkflowExecutionInitiated).
Result<std::vector<std::string>> ChildIds(const engine::Engine& engine, const std::string& id);

// The execution `id` if `user_id` owns it; NotFound otherwise, as for a missing one (a store
// that cannot answer gives its own error, e.g. Unavailable: not "not found").
Result<engine::ExecutionRecord> OwnedExecution(const engine::Engine& engine,
                                               const std::string& user_id, const std::string& id);

}  // namespace internal

struct DurableBatchService::Rep {
  const config::Config& config;
  engine::Engine* engine;
  MemoryProcessor* processor;
  WebhookSender* webhooks;
  const Clock* clock;

  // Decoded inputs of recently active batches (activities read them on every memory).
  std::mutex cache_mu;  // guards `headers`
  BatchInputCache inputs;
  std::mutex load_mu;  // one loader at a time: concurrent misses would each decode the blob
  std::atomic<int64_t> webhook_delivered{0}, webhook_failed{0};
  std::unordered_map<std::string, BatchHeader> headers;
  engine::PayloadFormatRegistry payload_formats;  // filled at construction, then read-only
  AdmissionControl admission;  // open batches and queued memories (durable_batch_admission.cc)
  std::mutex admission_mu;
  bool admission_restored = false;  // guarded by admission_mu
  // Cluster mode (guarded by admission_mu): when RestoreAdmission ran, and when each user's
  // batches started by other nodes were last looked for.
  int64_t admission_restored_ms = 0;
  std::unordered_map<std::string, int64_t> others_looked_ms;

  Rep(const config::Config& c, engine::Engine* e, MemoryProcessor* p, WebhookSender* w,
      const Clock* clk)
      : config(c), engine(e), processor(p), webhooks(w), clock(clk),
        inputs(c.processing.input_cache_bytes),
        admission(AdmissionLimits(c), [this](const std::string& id) { return Queued(id); },
                  PlanLimits(c)) {}

  static AdmissionControl::Limits AdmissionLimits(const config::Config& c);
  // Each user's plan's open-batch and queued-memory limits (nullptr without a plans table).
  static AdmissionControl::UserLimitsFn PlanLimits(const config::Config& c);
  // Memories of batch `id` not yet processed; 0 once its memories are settled (memo set) or
  // it closed.
  int64_t Queued(const std::string& id);
  // Once, after the engine recovered: counts the open batches found on disk (so the limits
  // hold across restarts). Unavailable until the engine is ready.
  Status RestoreAdmission();
  // Cluster mode, before admitting a batch of `user`: counts the user's open batches that
  // other nodes started since the last look (the owner index, newest first, with 2 s of slack
  // for their clocks; at most one look per user every 200 ms), so per-user limits hold across
  // the cluster (within what other nodes admit in 200 ms).
  Status CountOtherNodesBatches(const std::string& user);
  // The answer to a submit whose batch `id` exists already (a replayed Idempotency-Key):
  // that batch, or InvalidArgument for another body.
  Result<SubmitOutcome> Existing(const std::string& id, const BatchRequest& request);

  internal::WorkflowTask BatchWorkflow(internal::WorkflowContext& ctx, std::string input);
  internal::ActivityResult ProcessMemory(const engine::ActivityCall& call);
  internal::ActivityResult DeliverWebhook(const engine::ActivityCall& call);
  // The decoded slice holding memory `offset` of chunk `chunk` of batch `batch_id` (cached).
  Result<BatchInputCache::SlicePtr> Memories(const std::string& batch_id, int64_t chunk,
                                             int64_t offset);
  Result<BatchHeader> Header(const std::string& batch_id);
  // What a submit knows before its execution starts: the header and the stored chunks, so its
  // first activities need not read them back. Only for an id no other request can have
  // (random): a keyed submit may race another with the same key and a different body.
  void SeedCaches(const std::string& batch_id, const BatchHeader& header,
                  const engine::StartOptions& start);
  // The webhook's attempt rows of batch `id` (none for a batch without a webhook).
  Result<std::vector<engine::ActivityRecord>> ReadWebhookAttempts(const std::string& id);
  // `webhook_rows`: the webhook's attempt rows when the caller read them (GetStatus); else
  // read here, after `record`.
  Result<BatchStatus> StatusOf(const engine::ExecutionRecord& record,
                               const std::vector<engine::ActivityRecord>* webhook_rows = nullptr);
  // Applies `op` to each open child of `id` (after the parent, so no parent reacts to a child
  // it is about to lose); a child's failure is reported in `report` (optional), not returned.
  Status ForOpenChildren(const std::string& id,
                         const std::function<Status(const std::string&)>& op,
                         std::vector<ChildAction>* report);
  // Before change "memory-options-from-header" (GetVersion DEFAULT): fixed retries and the
  // live config's timeout. Kept for batches that were in flight across the upgrade.
  internal::ActivityOptions MemoryActivityOptions() const {
    internal::ActivityOptions o;
    o.retry.initial_interval_ms = 200;
    o.retry.backoff_coefficient = 2.0;
    o.retry.maximum_interval_ms = 10000;
    o.retry.maximum_attempts = 5;
    o.retry.non_retryable_error_types = {"422"};
    o.start_to_close_timeout_ms = std::max<int64_t>(30000, config.processing.timeout_ms * 2);
    return o;
  }
  // Version 1 of that change: what the batch header recorded at submit.
  static internal::ActivityOptions MemoryActivityOptions(const BatchHeader& h) {
    internal::ActivityOptions o;
    o.retry.initial_interval_ms = h.retry.initial_interval_ms;
    o.retry.backoff_coefficient = h.retry.backoff_coefficient;
    o.retry.maximum_interval_ms = h.retry.maximum_interval_ms;
    o.retry.maximum_attempts = h.retry.maximum_attempts;
    o.retry.non_retryable_error_types = h.retry.non_retryable_error_types;
    o.start_to_close_timeout_ms = h.attempt_timeout_ms;
    return o;
  }
};

}  // namespace papr::workflows
