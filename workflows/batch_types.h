#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace papr::workflows {

//! One memory as the client sent it (AddMemoryRequest). JSON-valued fields are minified JSON.
struct MemoryInput {
  std::string content;
  std::string type = "text";          // text | code_snippet | document
  std::string metadata_json = "{}";   // object, kept as given
  std::string context_json = "[]";    // array of {role, content}
  std::string external_user_id;
};

//! Temporal's RetryPolicy of one memory's processing, as a batch records it. The defaults are
//! what batches ran with before it was configurable (and what old batch headers decode to).
struct MemoryRetryPolicy {
  int64_t initial_interval_ms = 200;
  double backoff_coefficient = 2.0;
  int64_t maximum_interval_ms = 10000;
  int64_t maximum_attempts = 5;
  std::vector<std::string> non_retryable_error_types = {"422"};
};

//! A batch request's `retry_policy`: each field given overrides the configured one.
struct RetryPolicyOverrides {
  std::optional<int64_t> initial_interval_ms;
  std::optional<double> backoff_coefficient;
  std::optional<int64_t> maximum_interval_ms;
  std::optional<int64_t> maximum_attempts;
  std::optional<std::vector<std::string>> non_retryable_error_types;
};

//! A validated batch submission (BatchMemoryRequest) plus who sent it.
struct BatchRequest {
  std::string user_id;
  // The batch's id when the caller chose it (a document's chunks name their document before
  // it is submitted); empty: random, or derived from `idempotency_key`.
  std::string batch_id;
  std::vector<MemoryInput> memories;
  int64_t batch_size = 10;  // parallelism hint
  std::string webhook_url;
  std::string webhook_secret;
  std::string external_user_id;
  int64_t max_concurrency = 0;  // 0: the edition's max_concurrent_tasks
  std::optional<int64_t> tolerated_failure_count;
  std::optional<double> tolerated_failure_percentage;
  RetryPolicyOverrides retry_policy;
  std::string idempotency_key;
  std::string body_hash;  // sha256 of the request body, for Idempotency-Key reuse checks
};

// Values are persisted (batch summaries): append only.
enum class BatchState {
  kQueued, kProcessing, kCompleted, kPartial, kFailed, kCancelling, kCancelled, kTerminated
};
const char* BatchStateName(BatchState s);
// Also accepts the spelling "canceled" for kCancelled (the engine's and the per-item one).
std::optional<BatchState> ParseBatchState(std::string_view name);
// Every state's name, in declaration order (for errors that list the valid values).
std::vector<std::string> BatchStateNames();
bool IsTerminal(BatchState s);

enum class ItemState { kPending, kSucceeded, kFailed, kCanceled };
const char* ItemStateName(ItemState s);

struct ItemError {
  int64_t index = 0;
  std::string error;
  int64_t code = 0;  // HTTP-like code of the failure (422 invalid, 502 processing, 500 store)
};

enum class WebhookState { kNone, kPending, kDelivered, kFailed };
const char* WebhookStateName(WebhookState s);

//! One delivery attempt as the status shows it.
struct WebhookDelivery {
  int64_t at_ms = 0;
  int64_t status_code = 0;  // 0: no HTTP answer
  std::string error;        // empty when delivered
};

struct WebhookStatus {
  std::vector<WebhookDelivery> deliveries;  // every attempt, oldest first
  std::string url;
  WebhookState state = WebhookState::kNone;
  int64_t attempts = 0;
  int64_t last_status_code = 0;
  std::string last_error;
};

//! Progress of one batch, as the status endpoint shows it.
struct BatchStatus {
  std::string batch_id;
  std::string workflow_id;
  std::string user_id;
  BatchState state = BatchState::kQueued;
  std::string reason;  // why a failed or terminated batch ended (empty if it ran its course)
  bool durable = false;
  int64_t total = 0;
  int64_t processing = 0;
  int64_t succeeded = 0;
  int64_t failed = 0;
  int64_t canceled = 0;
  int64_t retries = 0;  // failed attempts that were retried
  int64_t total_content_size = 0;
  std::vector<ItemError> errors;  // first 100
  int64_t created_at_ms = 0;
  int64_t started_at_ms = 0;
  int64_t updated_at_ms = 0;
  int64_t completed_at_ms = 0;
  // Set when the server could not resume the batch (or one of its chunks) after a restart:
  // it runs nothing until an operator resets or fails it with engine-admin.
  std::string resume_error;
  WebhookStatus webhook;
};

struct ItemResult {
  int64_t index = 0;
  std::string memory_id;
  ItemState state = ItemState::kPending;
  std::string error;
  int64_t code = 0;
  int64_t created_at_ms = 0;
};

struct ResultsPage {
  std::vector<ItemResult> results;
  std::optional<int64_t> next_after;
};

struct SubmitOutcome {
  std::string batch_id;
  std::string workflow_id;
  bool durable = false;
  bool existing = false;  // Idempotency-Key matched an earlier submission
};

struct BatchListPage {
  std::vector<BatchStatus> batches;
  std::string next_after;  // cursor, empty at the end
};

}  // namespace papr::workflows
