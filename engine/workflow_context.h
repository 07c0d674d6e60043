#pragma once

#include <coroutine>
#include <cstdint>
#include <string>

#include "engine/workflow.h"

namespace papr::engine {

namespace internal {
class Execution;
}

//! What NextCompletion() yields: an activity's final outcome, a signal, or the news that
//! cancellation was requested.
struct WorkflowEvent {
  enum class Kind { kActivity, kSignal, kCancelRequested, kTimer, kChild };
  Kind kind = Kind::kActivity;
  int64_t activity_id = 0;
  bool ok = false;
  std::string payload;  // activity result / signal input
  std::string error;    // activity failure
  int64_t attempts = 0;
  std::string signal_name;
  int64_t timer_id = 0;
  std::string child_workflow_id;  // kChild: which child closed; ok/payload/error as above
  // kChild: the child's progress counters (SetProgress) when it closed: what a terminated or
  // failed child, which returns no result, had done.
  int64_t child_succeeded = 0, child_failed = 0, child_canceled = 0;
};

//! The workflow's only window on the world. Commands (activities, timers) become history
//! events; everything the workflow observes comes back as events in history order, so a
//! replay from the history reproduces the same run. Used only on the execution's runner.
class WorkflowContext {
 public:
  explicit WorkflowContext(internal::Execution* execution) : execution_(execution) {}

  const std::string& workflow_id() const;
  // Time of the event being applied: deterministic across replays.
  int64_t NowMillis() const;
  // When the execution started (its WorkflowExecutionStarted event).
  int64_t StartMillis() const;
  // Deterministic pseudo-random number seeded by the workflow id (FNV-1a, the same on every
  // build and platform) and the call count.
  uint64_t Random();
  bool CancelRequested() const;
  // True while the history is being replayed (e.g. to skip logging).
  bool IsReplaying() const;

  // Schedules an activity (a command). `activity_id` must be unique in this execution.
  void StartActivity(const std::string& activity_type, std::string input,
                     const ActivityOptions& options, int64_t activity_id);
  // Starts a durable timer; its firing arrives through NextEvent() as kTimer.
  void StartTimer(int64_t timer_id, int64_t delay_ms);
  // Starts a child execution in this transition's commit; its close arrives as kChild.
  // Cancellation requested on this execution is passed on to its open children; when this
  // execution closes, open children get `policy` (durably).
  void StartChildWorkflow(const std::string& child_workflow_id, const std::string& workflow_type,
                          std::string input,
                          ParentClosePolicy policy = ParentClosePolicy::kTerminate);
  // Temporal's GetVersion, for changing workflow code while old executions run: which side
  // of the change `change_id` this execution is on. Live, the first call records a
  // MarkerRecorded "Version" event with `max_supported` and returns it; a replay returns the
  // recorded version, or kDefaultVersion when the history has no marker at that point (the
  // execution ran the code from before the change). A version outside [min_supported,
  // max_supported] stops the replay as non-determinism. Later calls with the same id return
  // the same version.
  static constexpr int64_t kDefaultVersion = -1;
  int64_t GetVersion(const std::string& change_id, int64_t min_supported, int64_t max_supported);
  // Activities scheduled and not finished.
  int64_t PendingActivities() const;
  // Workflow-maintained progress counters, kept in derived state for status readers.
  void SetProgress(int64_t succeeded, int64_t failed, int64_t canceled);
  // A short workflow-defined note kept in derived state with the time it was set (readers
  // see, e.g., a batch's outcome while its webhook is still being retried).
  void SetMemo(std::string memo);

  //! Awaitable for the next event, in history order.
  struct NextEventAwaitable {
    internal::Execution* execution;
    bool await_ready() const;
    void await_suspend(std::coroutine_handle<> h);
    WorkflowEvent await_resume();
  };
  NextEventAwaitable NextEvent() { return {execution_}; }

 private:
  internal::Execution* execution_;
  uint64_t random_calls_ = 0;
};

}  // namespace papr::engine
