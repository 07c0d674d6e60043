#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "config/config.h"
#include "engine/engine.h"
#include "workflows/batch_service.h"
#include "workflows/memory_processor.h"
#include "workflows/webhook_sender.h"

namespace papr::workflows {

//! The cloud edition's batch runner: each batch is a durable workflow on the embedded engine.
//! Submit returns once WorkflowExecutionStarted (with the input) is committed and synced;
//! memories are activities (retried per policy, stored idempotently under deterministic ids);
//! the webhook is delivered by activities on the configured schedule with durable timers.
//! Status, results and listings are read from the engine's derived state. Thread-safe.
class DurableBatchService final : public BatchService {
 public:
  // Registers the batch workflow and its activities on `engine` (before engine->Start()).
  DurableBatchService(const config::Config& config, engine::Engine* engine,
                      MemoryProcessor* processor, WebhookSender* webhooks, const Clock* clock);
  ~DurableBatchService() override;

  Result<SubmitOutcome> Submit(BatchRequest request) override;
  Result<BatchStatus> GetStatus(const std::string& user_id, const std::string& batch_id) override;
  Result<ResultsPage> GetResults(const std::string& user_id, const std::string& batch_id,
                                 int64_t after, int64_t limit) override;
  Result<BatchListPage> List(const std::string& user_id, std::optional<BatchState> state_filter,
                             int64_t limit, const std::string& after) override;
  Status Cancel(const std::string& user_id, const std::string& batch_id) override;
  bool SubscribeOnce(const std::string& batch_id, std::function<void()> fn) override;
  bool SubscribeDone(const std::string& batch_id, std::function<void()> fn) override;
  void Shutdown() override;
  std::string MetricsText() const override;
  Result<std::string> HistoryJson(const std::string& user_id, const std::string& workflow_id,
                                  int64_t after, int64_t limit) override;
  Status AdminTerminate(const std::string& user_id, const std::string& workflow_id,
                        const std::string& reason) override;
  Status AdminCancel(const std::string& user_id, const std::string& workflow_id,
                     const std::string& reason) override;
  Status AdminSignal(const std::string& user_id, const std::string& workflow_id,
                     const std::string& name, const std::string& input_json) override;
  Result<SubmitOutcome> AdminRetry(const std::string& user_id,
                                   const std::string& batch_id) override;
  Result<WorkflowState> AdminDescribe(const std::string& user_id,
                                      const std::string& workflow_id) override;

  //! What an operator action did to one open child of the execution it was applied to.
  struct ChildAction {
    std::string workflow_id;
    Status status;  // OK, or why the child was not reached
  };

  // Operator actions without an owner check, shared by the Admin* methods (which check the
  // owner first) and engine-admin's direct mode. FailedPrecondition "workflow ID is already
  // <status>" unless the execution runs. Terminate and cancel go to the execution, then to
  // each of its open children (recorded here, not only passed on by the engine after the
  // parent's commit, which a crash in between would lose); `children` (optional) gets what
  // happened to each. REQUIRES: the engine is started.
  Status TerminateExecution(const std::string& workflow_id, const std::string& reason,
                            std::vector<ChildAction>* children = nullptr);
  Status CancelExecution(const std::string& workflow_id, const std::string& reason,
                         std::vector<ChildAction>* children = nullptr);
  Status SignalExecution(const std::string& workflow_id, const std::string& name,
                         const std::string& input);
  // The request that re-runs (redrives) the memories the finished batch `batch_id` (a root
  // batch, not a chunk) did not store: failed ones and those that never ran (cancelled,
  // terminated, stopped early). Same user, concurrency, tolerated failures, webhook and
  // secret; memory i is the i-th unstored index of the old batch (`failed_indexes`,
  // ascending), read from its stored memories. Its Idempotency-Key
  // "engine-admin-retry:<batch_id>" and body hash (the indexes) make a second retry find the
  // first. InvalidArgument for a chunk or another workflow type, FailedPrecondition while it
  // runs or when every memory was stored.
  // Needs no started engine (it only reads).
  Result<BatchRequest> RetryRequestFor(const std::string& batch_id,
                                       std::vector<int64_t>* failed_indexes);

  static constexpr const char* kWorkflowType = "batch_memory";

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace papr::workflows
