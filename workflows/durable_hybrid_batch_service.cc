#include "workflows/durable_hybrid_batch_service.h"

#include <algorithm>
#include <climits>

namespace papr::workflows {

HybridBatchService::HybridBatchService(int64_t threshold, std::unique_ptr<BatchService> durable,
                                       std::unique_ptr<OssBatchService> in_memory)
    : threshold_(threshold), durable_(std::move(durable)), in_memory_(std::move(in_memory)) {}

BatchService* HybridBatchService::Owner(const std::string& user_id, const std::string& batch_id) {
  if (durable_->GetStatus(user_id, batch_id).ok()) return durable_.get();
  if (in_memory_->GetStatus(user_id, batch_id).ok()) return in_memory_.get();
  return durable_.get();  // answers NotFound
}

Result<SubmitOutcome> HybridBatchService::Submit(BatchRequest request) {
  bool durable = static_cast<int64_t>(request.memories.size()) > threshold_;
  return durable ? durable_->Submit(std::move(request)) : in_memory_->Submit(std::move(request));
}

Result<BatchStatus> HybridBatchService::GetStatus(const std::string& user_id,
                                                  const std::string& batch_id) {
  return Owner(user_id, batch_id)->GetStatus(user_id, batch_id);
}

Result<ResultsPage> HybridBatchService::GetResults(const std::string& user_id,
                                                   const std::string& batch_id, int64_t after,
                                                   int64_t limit) {
  return Owner(user_id, batch_id)->GetResults(user_id, batch_id, after, limit);
}

// Newest first across both runners: each lists a page, and the merge keeps the newest.
Result<BatchListPage> HybridBatchService::List(const std::string& user_id,
                                               std::optional<BatchState> state_filter,
                                               int64_t limit, const std::string& after) {
  if (!after.empty() && !in_memory_->GetStatus(user_id, after).ok() &&
      !durable_->GetStatus(user_id, after).ok()) {
    return BatchListPage{};
  }
  // A cursor names a batch of one runner; the other runner continues from its created time.
  int64_t before_ms = INT64_MAX;
  if (!after.empty()) before_ms = GetStatus(user_id, after)->created_at_ms;
  BatchListPage merged;
  // From each runner, its newest `limit + 1` batches strictly older than the cursor's.
  for (BatchService* runner : {static_cast<BatchService*>(durable_.get()),
                               static_cast<BatchService*>(in_memory_.get())}) {
    std::string cursor;
    int64_t taken = 0;
    for (int round = 0; round < 100 && taken <= limit; ++round) {
      ASSIGN_OR_RETURN(auto page, runner->List(user_id, state_filter, limit + 1, cursor));
      for (auto& st : page.batches) {
        if (st.created_at_ms >= before_ms || taken > limit) continue;
        merged.batches.push_back(std::move(st));
        ++taken;
      }
      if (page.next_after.empty()) break;
      cursor = page.next_after;
    }
  }
  std::stable_sort(merged.batches.begin(), merged.batches.end(),
                   [](const BatchStatus& a, const BatchStatus& b) {
                     return a.created_at_ms > b.created_at_ms;
                   });
  if (static_cast<int64_t>(merged.batches.size()) > limit) {
    merged.batches.resize(static_cast<size_t>(limit));
    merged.next_after = merged.batches.back().batch_id;
  }
  return merged;
}

Status HybridBatchService::Cancel(const std::string& user_id, const std::string& batch_id) {
  return Owner(user_id, batch_id)->Cancel(user_id, batch_id);
}

bool HybridBatchService::SubscribeOnce(const std::string& batch_id, std::function<void()> fn) {
  // The executor knows its batches in memory; everything else is the engine's.
  if (in_memory_->SubscribeOnce(batch_id, fn)) return true;
  return durable_->SubscribeOnce(batch_id, std::move(fn));
}

bool HybridBatchService::SubscribeDone(const std::string& batch_id, std::function<void()> fn) {
  if (in_memory_->SubscribeDone(batch_id, fn)) return true;
  return durable_->SubscribeDone(batch_id, std::move(fn));
}

void HybridBatchService::Shutdown() {
  in_memory_->Shutdown();
  durable_->Shutdown();
}

std::string HybridBatchService::MetricsText() const {
  // The webhook family is the durable runner's; the executor adds only its own gauge.
  return durable_->MetricsText() + in_memory_->ExecutorMetricsText();
}

Result<std::string> HybridBatchService::HistoryJson(const std::string& user_id,
                                                    const std::string& workflow_id,
                                                    int64_t after, int64_t limit) {
  return durable_->HistoryJson(user_id, workflow_id, after, limit);
}

BatchService* HybridBatchService::WorkflowOwner(const std::string& user_id,
                                                const std::string& workflow_id) {
  if (durable_->AdminDescribe(user_id, workflow_id).ok()) return durable_.get();
  if (in_memory_->GetStatus(user_id, workflow_id).ok()) return in_memory_.get();
  return durable_.get();  // answers NotFound
}

Status HybridBatchService::AdminTerminate(const std::string& user_id,
                                          const std::string& workflow_id,
                                          const std::string& reason) {
  return durable_->AdminTerminate(user_id, workflow_id, reason);
}

Status HybridBatchService::AdminCancel(const std::string& user_id,
                                       const std::string& workflow_id,
                                       const std::string& reason) {
  return WorkflowOwner(user_id, workflow_id)->AdminCancel(user_id, workflow_id, reason);
}

Status HybridBatchService::AdminSignal(const std::string& user_id,
                                       const std::string& workflow_id, const std::string& name,
                                       const std::string& input_json) {
  return durable_->AdminSignal(user_id, workflow_id, name, input_json);
}

Result<SubmitOutcome> HybridBatchService::AdminRetry(const std::string& user_id,
                                                     const std::string& batch_id) {
  return durable_->AdminRetry(user_id, batch_id);
}

Result<WorkflowState> HybridBatchService::AdminDescribe(const std::string& user_id,
                                                        const std::string& workflow_id) {
  return WorkflowOwner(user_id, workflow_id)->AdminDescribe(user_id, workflow_id);
}

}  // namespace papr::workflows
