#pragma once

#include <memory>

#include "workflows/batch_service.h"
#include "workflows/oss_batch_service.h"

namespace papr::workflows {

//! Routes each batch by size (`features.temporal_threshold`): batches larger than the threshold
//! run durably on the engine, smaller ones on the in-memory executor (cheaper, progress lost on
//! restart). Reads try the durable runner first, then the executor. With threshold 0 every
//! batch is durable (cloud.yaml). Thread-safe.
class HybridBatchService final : public BatchService {
 public:
  HybridBatchService(int64_t threshold, std::unique_ptr<BatchService> durable,
                     std::unique_ptr<OssBatchService> in_memory);

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
  // Admin actions go to the durable runner (a retry runs durably whatever its size); cancel
  // and describe of an executor batch go to the executor.
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
  // The runner that holds `batch_id`'s batch (durable if neither does).
  BatchService* Owner(const std::string& user_id, const std::string& batch_id);
  // The runner that holds workflow `workflow_id` (a batch or a chunk; durable if neither).
  BatchService* WorkflowOwner(const std::string& user_id, const std::string& workflow_id);

  int64_t threshold_;
  std::unique_ptr<BatchService> durable_;
  std::unique_ptr<OssBatchService> in_memory_;
};

}  // namespace papr::workflows
