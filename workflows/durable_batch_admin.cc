#include <algorithm>
#include <limits>
#include <mutex>

#include "common/crypto.h"
#include "workflows/batch_codec.h"
#include "workflows/internal/durable_batch_rep.h"
#include "workflows/signal_limits.h"

namespace papr::workflows {

using namespace internal;  // NOLINT: this file implements the internal header

namespace {

Status RequireRunning(const engine::Engine& engine, const std::string& id) {
  ASSIGN_OR_RETURN(engine::ExecutionRecord r, engine.Describe(id));
  if (r.status != engine::ExecutionStatus::kRunning) {
    return Status::FailedPrecondition("workflow " + id + " is already " +
                                      engine::ExecutionStatusName(r.status));
  }
  return Status::Ok();
}

// The memories of the closed batch `id` that were not stored, in index order: failed ones and
// those that never ran (a cancelled, terminated or early-stopped batch), as a redrive runs
// them. A batch above kChunkSize ran its memories in child executions: their rows are there.
Result<std::vector<int64_t>> UnstoredIndexes(const engine::Engine& engine, const std::string& id,
                                             int64_t total) {
  std::vector<std::string> owners = {id};
  ASSIGN_OR_RETURN(auto children, ChildIds(engine, id));
  owners.insert(owners.end(), children.begin(), children.end());
  std::vector<bool> stored(static_cast<size_t>(total), false);
  for (const auto& owner : owners) {
    ASSIGN_OR_RETURN(auto rows,
                     engine.ReadActivities(owner, -1, std::numeric_limits<int64_t>::max() / 2));
    for (const auto& row : rows) {
      // Activity ids below `total` are memory indexes (webhook attempts use far larger ids).
      if (row.state == engine::ActivityState::kSucceeded && row.activity_id >= 0 &&
          row.activity_id < total) {
        stored[static_cast<size_t>(row.activity_id)] = true;
      }
    }
  }
  std::vector<int64_t> unstored;
  for (int64_t i = 0; i < total; ++i) {
    if (!stored[static_cast<size_t>(i)]) unstored.push_back(i);
  }
  return unstored;
}

// The stored memories of batch `id` at `indexes` (ascending), one blob per chunk.
Result<std::vector<MemoryInput>> LoadMemories(const engine::Engine& engine, const std::string& id,
                                              const std::vector<int64_t>& indexes) {
  std::vector<MemoryInput> out;
  int64_t loaded_chunk = -1;
  std::vector<MemoryInput> chunk;
  for (int64_t index : indexes) {
    if (index / kChunkSize != loaded_chunk) {
      loaded_chunk = index / kChunkSize;
      ASSIGN_OR_RETURN(auto blob, engine.ReadBlob(id, MemoriesBlobName(loaded_chunk)));
      if (!blob) {
        return Status::NotFound("batch " + id + " has no stored memories (blob " +
                                MemoriesBlobName(loaded_chunk) + ")");
      }
      ASSIGN_OR_RETURN(chunk, DecodeMemories(*blob));
    }
    auto offset = static_cast<size_t>(index - loaded_chunk * kChunkSize);
    if (offset >= chunk.size()) {
      return Status::Corruption("memory " + std::to_string(index) + " is not in its blob");
    }
    out.push_back(chunk[offset]);
  }
  return out;
}

// The signals an execution's history holds, read a page at a time (admin signals are rare,
// so a scan per signal costs less than a counter in the execution record).
Result<SignalUsage> SignalsInHistory(const engine::Engine& engine, const std::string& workflow_id) {
  SignalUsage used;
  int64_t after = 0;
  while (true) {
    ASSIGN_OR_RETURN(auto page, engine.ReadHistory(workflow_id, after, 1000));
    for (const auto& e : page) {
      if (e.type != engine::EventType::kWorkflowExecutionSignaled) continue;
      ++used.count;
      used.bytes += static_cast<int64_t>(e.signal_name.size() + e.payload.size());
    }
    if (page.size() < 1000) return used;
    after = page.back().event_id;
  }
}

}  // namespace

namespace internal {

Result<engine::ExecutionRecord> OwnedExecution(const engine::Engine& engine,
                                               const std::string& user_id,
                                               const std::string& id) {
  auto record = engine.Describe(id);
  if (!record.ok() && record.status().code() != StatusCode::kNotFound) return record.status();
  if (!record.ok() || record->owner != user_id) {
    return Status::NotFound("workflow " + id + " not found");
  }
  return record;
}

}  // namespace internal

using internal::OwnedExecution;

// ---- operator actions

Status DurableBatchService::TerminateExecution(const std::string& workflow_id,
                                               const std::string& reason,
                                               std::vector<ChildAction>* children) {
  engine::Engine& engine = *rep_->engine;
  RETURN_IF_ERROR(RequireRunning(engine, workflow_id));
  RETURN_IF_ERROR(engine.Terminate(workflow_id, reason));
  return rep_->ForOpenChildren(
      workflow_id,
      [&](const std::string& child) {
        return engine.Terminate(child, "parent " + workflow_id + " terminated: " + reason);
      },
      children);
}

Status DurableBatchService::CancelExecution(const std::string& workflow_id,
                                            const std::string& reason,
                                            std::vector<ChildAction>* children) {
  engine::Engine& engine = *rep_->engine;
  RETURN_IF_ERROR(RequireRunning(engine, workflow_id));
  RETURN_IF_ERROR(engine.RequestCancel(workflow_id, reason));
  // A second cancel request of a child (the engine passes one on too) is a no-op.
  return rep_->ForOpenChildren(
      workflow_id, [&](const std::string& child) { return engine.RequestCancel(child, reason); },
      children);
}

Status DurableBatchService::SignalExecution(const std::string& workflow_id,
                                            const std::string& name, const std::string& input) {
  RETURN_IF_ERROR(CheckSignalSize(name, input));  // both the admin API and engine-admin
  RETURN_IF_ERROR(RequireRunning(*rep_->engine, workflow_id));
  // One signal at a time through this service, so the budget check and the signal agree.
  static std::mutex signal_mu;
  std::lock_guard lock(signal_mu);
  ASSIGN_OR_RETURN(SignalUsage used, SignalsInHistory(*rep_->engine, workflow_id));
  RETURN_IF_ERROR(CheckSignalBudget(used, name, input));
  return rep_->engine->Signal(workflow_id, name, input);
}

Result<BatchRequest> DurableBatchService::RetryRequestFor(const std::string& batch_id,
                                                          std::vector<int64_t>* failed_indexes) {
  const engine::Engine& engine = *rep_->engine;
  ASSIGN_OR_RETURN(engine::ExecutionRecord record, engine.Describe(batch_id));
  if (record.workflow_type != kWorkflowType) {
    return Status::InvalidArgument("workflow " + batch_id + " is a " + record.workflow_type +
                                   ", not a batch (retry the root batch)");
  }
  if (record.status == engine::ExecutionStatus::kRunning) {
    return Status::FailedPrecondition("batch " + batch_id + " is still running");
  }
  ASSIGN_OR_RETURN(BatchHeader h, rep_->Header(batch_id));
  ASSIGN_OR_RETURN(*failed_indexes, UnstoredIndexes(engine, batch_id, h.total));
  if (failed_indexes->empty()) {
    return Status::FailedPrecondition("batch " + batch_id +
                                      " stored every memory: nothing to retry");
  }
  BatchRequest request;
  request.user_id = h.user_id;
  ASSIGN_OR_RETURN(request.memories, LoadMemories(engine, batch_id, *failed_indexes));
  request.max_concurrency = h.max_concurrency;
  if (h.tolerated_failure_count >= 0) request.tolerated_failure_count = h.tolerated_failure_count;
  if (h.tolerated_failure_percentage >= 0) {
    request.tolerated_failure_percentage = h.tolerated_failure_percentage;
  }
  request.webhook_url = h.webhook_url;
  // The redrive retries as the batch did: its recorded policy, not today's config.
  request.retry_policy = {h.retry.initial_interval_ms, h.retry.backoff_coefficient,
                          h.retry.maximum_interval_ms, h.retry.maximum_attempts,
                          h.retry.non_retryable_error_types};
  ASSIGN_OR_RETURN(auto secret, engine.ReadBlob(batch_id, kWebhookSecretBlob));
  request.webhook_secret = secret.value_or("");
  // Retrying the same batch again finds this retry (Submit's idempotency), not a second one.
  // The key keeps its engine-admin name: batch ids derive from it.
  request.idempotency_key = "engine-admin-retry:" + batch_id;
  std::string signature = batch_id;
  for (int64_t i : *failed_indexes) {
    signature += ',';
    signature += std::to_string(i);
  }
  request.body_hash = Sha256Hex(signature);
  return request;
}

Status DurableBatchService::AdminTerminate(const std::string& user_id,
                                           const std::string& workflow_id,
                                           const std::string& reason) {
  RETURN_IF_ERROR(OwnedExecution(*rep_->engine, user_id, workflow_id).status());
  return TerminateExecution(workflow_id, reason);
}

Status DurableBatchService::AdminCancel(const std::string& user_id,
                                        const std::string& workflow_id,
                                        const std::string& reason) {
  RETURN_IF_ERROR(OwnedExecution(*rep_->engine, user_id, workflow_id).status());
  return CancelExecution(workflow_id, reason);
}

Status DurableBatchService::AdminSignal(const std::string& user_id,
                                        const std::string& workflow_id, const std::string& name,
                                        const std::string& input_json) {
  RETURN_IF_ERROR(OwnedExecution(*rep_->engine, user_id, workflow_id).status());
  return SignalExecution(workflow_id, name, input_json);
}

Result<SubmitOutcome> DurableBatchService::AdminRetry(const std::string& user_id,
                                                      const std::string& batch_id) {
  RETURN_IF_ERROR(OwnedExecution(*rep_->engine, user_id, batch_id).status());
  std::vector<int64_t> failed;
  ASSIGN_OR_RETURN(BatchRequest request, RetryRequestFor(batch_id, &failed));
  return Submit(std::move(request));
}

Result<WorkflowState> DurableBatchService::AdminDescribe(const std::string& user_id,
                                                         const std::string& workflow_id) {
  ASSIGN_OR_RETURN(engine::ExecutionRecord r, OwnedExecution(*rep_->engine, user_id, workflow_id));
  return WorkflowState{r.workflow_type, engine::ExecutionStatusName(r.status), r.cancel_requested};
}


}  // namespace papr::workflows
