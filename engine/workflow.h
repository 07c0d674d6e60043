#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/retry_policy.h"
#include "storage/db.h"

namespace papr::engine {

class WorkflowContext;

//! What happens to an open child when its parent closes, for any reason (Temporal's
//! ParentClosePolicy). The request is recorded in the parent's closing commit (an outbox row
//! that recovery re-sends), so no child of a closed parent runs on after a crash. Persisted.
enum class ParentClosePolicy : uint8_t { kTerminate = 0, kRequestCancel = 1, kAbandon = 2 };

//! How a workflow ended, as its coroutine co_returns it.
struct WorkflowOutcome {
  enum class Kind { kCompleted, kFailed, kCanceled };
  Kind kind = Kind::kCompleted;
  std::string payload;  // result (completed) or failure message

  static WorkflowOutcome Completed(std::string result) { return {Kind::kCompleted, std::move(result)}; }
  static WorkflowOutcome Failed(std::string message) { return {Kind::kFailed, std::move(message)}; }
  static WorkflowOutcome Canceled(std::string summary) { return {Kind::kCanceled, std::move(summary)}; }
};

//! The coroutine type of workflow functions. Created suspended; the engine resumes it and
//! owns its frame. Workflow code must be deterministic: time, randomness and results come
//! only from the WorkflowContext.
class WorkflowTask {
 public:
  struct promise_type {
    std::optional<WorkflowOutcome> outcome;
    std::exception_ptr exception;
    WorkflowTask get_return_object() {
      return WorkflowTask(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_value(WorkflowOutcome o) { outcome = std::move(o); }
    void unhandled_exception() { exception = std::current_exception(); }
  };

  WorkflowTask() = default;
  explicit WorkflowTask(std::coroutine_handle<promise_type> h) : handle_(h) {}
  WorkflowTask(WorkflowTask&& o) noexcept : handle_(std::exchange(o.handle_, {})) {}
  WorkflowTask& operator=(WorkflowTask&& o) noexcept {
    if (this != &o) {
      Reset();
      handle_ = std::exchange(o.handle_, {});
    }
    return *this;
  }
  ~WorkflowTask() { Reset(); }

  std::coroutine_handle<promise_type> handle() const { return handle_; }
  bool done() const { return handle_ && handle_.done(); }

 private:
  void Reset() {
    if (handle_) handle_.destroy();
    handle_ = {};
  }
  std::coroutine_handle<promise_type> handle_;
};

using WorkflowFn = std::function<WorkflowTask(WorkflowContext& ctx, std::string input)>;

//! What an activity attempt gets.
struct ActivityCall {
  std::string workflow_id;
  std::string activity_type;
  int64_t activity_id = 0;
  int64_t attempt = 1;
  // Dispatched by recovery or a rebuild, from the history: an earlier process (perhaps of an
  // earlier version) may have run this attempt, and left effects a fresh attempt never finds.
  bool resumed = false;
  std::string input;
  // Set by the engine when the activity has a heartbeat timeout; see RecordHeartbeat.
  std::function<void()> heartbeat;

  // Tells the engine this attempt is alive (Temporal's RecordHeartbeat). Kept in memory only;
  // cheap enough to call often. A no-op for activities without a heartbeat timeout.
  void RecordHeartbeat() const {
    if (heartbeat) heartbeat();
  }
};

//! What an activity attempt returns. `error_type` is matched against the retry policy's
//! non_retryable_error_types; `non_retryable` ends retries regardless.
struct ActivityResult {
  bool ok = true;
  std::string payload;
  std::string error;
  std::string error_type;
  bool non_retryable = false;
  // Effects committed atomically with the completion event (only when the attempt succeeds
  // and is still current): no effect without its record, no record without its effect.
  std::shared_ptr<storage::WriteBatch> writes;

  static ActivityResult Ok(std::string payload) {
    return {true, std::move(payload), "", "", false, nullptr};
  }
  static ActivityResult Error(std::string message, std::string type, bool non_retryable) {
    return {false, "", std::move(message), std::move(type), non_retryable, nullptr};
  }
};

// Runs on an activity worker thread; may block (network, disk). At-least-once.
using ActivityFn = std::function<ActivityResult(const ActivityCall& call)>;

}  // namespace papr::engine
