#pragma once

#include <functional>
#include <optional>
#include <string>

#include "common/result.h"
#include "workflows/batch_types.h"

namespace papr::workflows {

//! An execution's state as the admin endpoints report it after a request.
struct WorkflowState {
  std::string workflow_type;  // batch_memory, batch_memory_chunk, ...
  // engine::ExecutionStatusName: running, completed, failed, canceled, terminated.
  std::string status;
  bool cancel_requested = false;
};

//! What the API needs of a batch runner. Two implementations: the OSS executor (in memory,
//! fire-and-forget) and the durable one on the engine. Thread-safe.
class BatchService {
 public:
  virtual ~BatchService() = default;

  // Accepts a validated batch. In durable mode it is recorded before this returns OK.
  // ResourceExhausted when the queue is full.
  virtual Result<SubmitOutcome> Submit(BatchRequest request) = 0;
  // NotFound for unknown ids or another user's.
  virtual Result<BatchStatus> GetStatus(const std::string& user_id,
                                        const std::string& batch_id) = 0;
  virtual Result<ResultsPage> GetResults(const std::string& user_id, const std::string& batch_id,
                                         int64_t after, int64_t limit) = 0;
  // Newest first; `after` is the cursor of the previous page.
  virtual Result<BatchListPage> List(const std::string& user_id,
                                     std::optional<BatchState> state_filter, int64_t limit,
                                     const std::string& after) = 0;
  virtual Status Cancel(const std::string& user_id, const std::string& batch_id) = 0;
  // Calls `fn` once (on some worker thread) when the batch changes; returns false if the
  // batch is unknown. Used for ?wait= and progress streams; callers re-read the status.
  virtual bool SubscribeOnce(const std::string& batch_id, std::function<void()> fn) = 0;
  // Calls `fn` once when the batch has ended (at once if it already has).
  virtual bool SubscribeDone(const std::string& batch_id, std::function<void()> fn) = 0;
  // Stops workers; queued work is dropped (OSS) or left for recovery (durable).
  virtual void Shutdown() = 0;
  // The workflow history of a batch (or one of its chunks) as JSON for the console:
  // {"workflow_id","workflow_type","status","history_length","events":[{"event_id","type",
  // "time","details"}],"next_after"}. NotFound for other users' ids and in the OSS edition.
  virtual Result<std::string> HistoryJson(const std::string& user_id,
                                          const std::string& workflow_id, int64_t after,
                                          int64_t limit) = 0;

  // Operator actions on one of the user's workflows (a batch or one of its chunks, "root/
  // chunk-0"): NotFound for unknown ids, other users' ids and (except cancel) in the OSS
  // edition; FailedPrecondition when the workflow is no longer running. Each returns once
  // the request is durably recorded.
  // Terminate: WorkflowExecutionTerminated with `reason`, also on its open children.
  virtual Status AdminTerminate(const std::string& user_id, const std::string& workflow_id,
                                const std::string& reason) = 0;
  // Cancel: as Cancel, for any workflow id; the workflow winds down (in-flight memories
  // finish first).
  virtual Status AdminCancel(const std::string& user_id, const std::string& workflow_id,
                             const std::string& reason) = 0;
  // Signal: WorkflowExecutionSignaled with `name` and `input_json` (JSON text, may be empty).
  virtual Status AdminSignal(const std::string& user_id, const std::string& workflow_id,
                             const std::string& name, const std::string& input_json) = 0;
  // Retry: a new batch with the failed memories of the finished batch `batch_id`, as a
  // Submit. Idempotent: retrying the same batch again answers with the first retry
  // (`existing`). FailedPrecondition if it is running or has no failed memory.
  virtual Result<SubmitOutcome> AdminRetry(const std::string& user_id,
                                           const std::string& batch_id) = 0;
  // The workflow's state now (NotFound as above).
  virtual Result<WorkflowState> AdminDescribe(const std::string& user_id,
                                              const std::string& workflow_id) = 0;
  // Prometheus text lines of the runner (appended to /metrics).
  virtual std::string MetricsText() const = 0;
};

}  // namespace papr::workflows
