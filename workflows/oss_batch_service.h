#pragma once

#include <memory>

#include "common/clock.h"
#include "config/config.h"
#include "workflows/batch_service.h"
#include "workflows/memory_processor.h"

namespace papr::workflows {

class WebhookSender;

//! The OSS edition's batch runner: a bounded fire-and-forget executor. `max_concurrent_tasks`
//! workers take memories from the accepted batches in arrival order; at most
//! `max_queued_batches` batches wait or run at once (more: ResourceExhausted -> 429).
//! Progress lives in memory only and is lost on restart (stored memories are not).
//! One webhook attempt per batch. Thread-safe.
class OssBatchService final : public BatchService {
 public:
  OssBatchService(const config::Config& config, MemoryProcessor* processor,
                  WebhookSender* webhooks, const Clock* clock);
  ~OssBatchService() override;

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
  // Only the executor's own gauge (the hybrid runner merges it with the engine's metrics).
  std::string ExecutorMetricsText() const;
  Result<std::string> HistoryJson(const std::string& user_id, const std::string& workflow_id,
                                  int64_t after, int64_t limit) override;
  // Terminate, signal and retry: NotFound (no durable workflows here). Cancel is Cancel;
  // AdminDescribe reports a batch as "running" until it ends, then "completed" or "canceled".
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

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace papr::workflows
