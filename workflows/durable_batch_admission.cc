// Admission of new durable batches: the counts of open batches and queued memories, read
// from the engine's execution records (so they are right after a restart).
#include <algorithm>

#include "common/log.h"
#include "config/plans.h"
#include "workflows/internal/durable_batch_rep.h"

namespace papr::workflows {

using namespace internal;  // NOLINT: this file implements the internal header

AdmissionControl::Limits DurableBatchService::Rep::AdmissionLimits(const config::Config& c) {
  AdmissionControl::Limits l;
  l.max_open_batches_per_user = c.limits.max_open_batches_per_user;
  l.max_open_batches = c.limits.max_open_batches;
  l.max_queued_memories_per_user = c.limits.max_queued_memories_per_user;
  l.max_queued_memories = c.limits.max_queued_memories;
  return l;
}

AdmissionControl::UserLimitsFn DurableBatchService::Rep::PlanLimits(const config::Config& c) {
  if (c.plans.empty()) return nullptr;
  return [&c](const std::string& user) {
    const config::Plan plan = config::PlanOf(c, user);
    AdmissionControl::UserLimits l;
    l.max_open_batches = plan.max_open_batches;
    l.max_queued_memories = plan.max_queued_memories;
    l.open_batches_key = "plan " + plan.name + " max_open_batches";
    l.queued_memories_key = "plan " + plan.name + " max_queued_memories";
    return l;
  };
}

namespace {

// Memories of the open batch `r` not yet processed (a chunked root's progress counts only
// the chunks it saw close, so this is an upper bound for it).
int64_t QueuedOf(const engine::ExecutionRecord& r, int64_t total) {
  if (r.status != engine::ExecutionStatus::kRunning || !r.memo.empty()) return 0;
  int64_t done = r.progress_succeeded + r.progress_failed + r.progress_canceled;
  return std::max<int64_t>(1, total - done);  // open: counted until settled
}

}  // namespace

int64_t DurableBatchService::Rep::Queued(const std::string& id) {
  auto r = engine->Describe(id);
  if (!r.ok()) return 0;  // gone (retention): not open
  if (r->status != engine::ExecutionStatus::kRunning || !r->memo.empty()) return 0;
  auto h = Header(id);
  return QueuedOf(*r, h.ok() ? h->total : 1);
}

Status DurableBatchService::Rep::RestoreAdmission() {
  std::lock_guard<std::mutex> lock(admission_mu);
  if (admission_restored) return Status::Ok();
  if (!engine->ready()) return Status::Unavailable("the engine is still recovering");
  constexpr int64_t kMaxOpen = 1000000;
  ASSIGN_OR_RETURN(auto running, engine->ListByStatus(engine::ExecutionStatus::kRunning, kMaxOpen));
  int64_t restored = 0;
  for (const auto& r : running) {
    if (r.workflow_type != DurableBatchService::kWorkflowType || !r.memo.empty()) continue;
    auto h = Header(r.workflow_id);
    if (!h.ok()) continue;
    admission.Restore(h->user_id, r.workflow_id, QueuedOf(r, h->total));
    ++restored;
  }
  admission_restored = true;
  admission_restored_ms = clock->NowMillis();
  log::Info("admission counts restored", {{"open_batches", std::to_string(restored)}});
  return Status::Ok();
}

Status DurableBatchService::Rep::CountOtherNodesBatches(const std::string& user) {
  constexpr int64_t kClockSlackMs = 2000;  // nodes' clocks agree within this (NTP)
  constexpr int64_t kLookEveryMs = 200;    // a user's burst reads the index once per this
  constexpr int64_t kPage = 100;
  int64_t since = 0;
  {
    std::lock_guard<std::mutex> lock(admission_mu);
    const int64_t now = clock->NowMillis();
    auto [it, first] = others_looked_ms.try_emplace(user, admission_restored_ms);
    if (!first && now - it->second < kLookEveryMs) return Status::Ok();
    since = it->second - kClockSlackMs;
    it->second = now;
  }
  std::string cursor;
  while (true) {
    ASSIGN_OR_RETURN(auto page, engine->ListByOwner(user, kPage, cursor));
    for (const auto& r : page) {
      if (r.start_ms < since) return Status::Ok();  // newest first: the rest were looked at
      cursor = engine::Engine::OwnerCursor(r);
      if (r.workflow_type != DurableBatchService::kWorkflowType) continue;
      if (r.status != engine::ExecutionStatus::kRunning || !r.memo.empty()) continue;
      auto h = Header(r.workflow_id);
      if (h.ok()) admission.Restore(user, r.workflow_id, QueuedOf(r, h->total));  // once
    }
    if (static_cast<int64_t>(page.size()) < kPage) return Status::Ok();
  }
}

Result<SubmitOutcome> DurableBatchService::Rep::Existing(const std::string& id,
                                                         const BatchRequest& request) {
  ASSIGN_OR_RETURN(BatchHeader existing, Header(id));
  if (existing.user_id != request.user_id) return Status::Internal("batch id collision");
  if (existing.body_hash != request.body_hash) {
    return Status::InvalidArgument("Idempotency-Key was already used with a different request body");
  }
  return SubmitOutcome{id, id, true, true};
}

}  // namespace papr::workflows
