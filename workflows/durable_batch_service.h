#pragma once

#include <memory>

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

  static constexpr const char* kWorkflowType = "batch_memory";

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace papr::workflows
