#include "storage/postgres/pg_write_group.h"

#include <utility>

#include "storage/postgres/pg_batch_sql.h"
#include "storage/postgres/pg_transaction.h"

namespace papr::storage::pg {
namespace {

bool SameFence(const std::optional<Fence>& a, const std::optional<Fence>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a.has_value() || (a->shard == b->shard && a->range_id == b->range_id);
}

// Outcomes that are every member's: nothing was applied because the connection or server
// failed (running each alone would fail alike), or COMMIT's outcome is unknown (then none of
// them may be re-run: the caller re-reads).
bool SharedByAll(const Status& status) {
  return status.ok() || status.code() == StatusCode::kUnavailable ||
         status.code() == StatusCode::kUnknownOutcome;
}

}  // namespace

Status PgWriteGroup::Write(const Batch& batch) {
  Entry self{&batch};
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(&self);
  stats_.writes.fetch_add(1, std::memory_order_relaxed);  // once queued: tests order writes by it
  while (!self.done) {
    if (self.taken || leaders_ >= max_leaders_) {
      changed_.wait(lock);
      continue;
    }
    // Lead: get a connection, then run whatever is queued by then (this batch among them,
    // unless another leader took it meanwhile).
    ++leaders_;
    lock.unlock();
    Result<PgPool::Borrowed> borrowed = pool_->Borrow();
    lock.lock();
    std::vector<Entry*> group;
    if (borrowed.ok()) {
      group = TakeGroup();
    } else if (!self.taken) {
      std::erase(queue_, &self);
      self.status = borrowed.status();
      self.done = true;
    }
    if (!group.empty()) {
      lock.unlock();
      RunGroup(*borrowed, group);
      lock.lock();
      for (Entry* entry : group) entry->done = true;
    }
    --leaders_;
    changed_.notify_all();
  }
  return self.status;
}

std::vector<PgWriteGroup::Entry*> PgWriteGroup::TakeGroup() {
  std::vector<Entry*> group;
  if (queue_.empty()) return group;
  const std::optional<Fence> fence = queue_.front()->batch->fence();
  size_t ops = 0;
  for (auto it = queue_.begin(); it != queue_.end();) {
    const Batch& batch = *(*it)->batch;
    if (!SameFence(batch.fence(), fence)) {
      ++it;
      continue;
    }
    if (!group.empty() && ops + batch.Count() > kMaxGroupOps) break;
    // Just after a taken key failed a group, Inserts run alone (their own outcome at once).
    if (!group.empty() && inserts_alone_ > 0 &&
        (batch.has_inserts() || group.front()->batch->has_inserts())) {
      ++it;
      continue;
    }
    if (inserts_alone_ > 0 && batch.has_inserts()) --inserts_alone_;
    ops += batch.Count();
    (*it)->taken = true;
    group.push_back(*it);
    it = queue_.erase(it);
  }
  return group;
}

void PgWriteGroup::RunGroup(PgPool::Borrowed& borrowed, const std::vector<Entry*>& group) {
  Status shared = RunTransaction(borrowed, group);
  if (group.size() == 1 || SharedByAll(shared)) {
    for (Entry* entry : group) entry->status = shared;
    return;
  }
  if (shared.code() == StatusCode::kAlreadyExists) {
    std::lock_guard<std::mutex> lock(mu_);
    inserts_alone_ = kInsertsAloneAfterConflict;
    stats_.insert_conflicts.fetch_add(1, std::memory_order_relaxed);
  }
  // Nothing applied, and the cause may be one member's: each alone, for its own outcome.
  for (Entry* entry : group) entry->status = RunTransaction(borrowed, {entry});
}

Status PgWriteGroup::RunTransaction(PgPool::Borrowed& borrowed, const std::vector<Entry*>& group) {
  std::vector<const Batch*> batches;
  bool no_sync = true;
  for (const Entry* entry : group) {
    batches.push_back(entry->batch);
    no_sync = no_sync && entry->batch->no_sync();
  }
  const std::optional<Fence>& fence = group.front()->batch->fence();
  // The stripe of this writer's counter rows: the fenced shard, else the connection's slot.
  int stripe = fence.has_value() ? static_cast<int>(fence->shard) : borrowed.slot();
  ASSIGN_OR_RETURN(std::vector<StatementCall> calls, CompileBatches(batches, stripe));
  TransactionCost cost;
  Status status = RunPipelinedTransaction(borrowed.conn(), fence, no_sync, calls, &cost);
  stats_.round_trips.fetch_add(cost.round_trips, std::memory_order_relaxed);
  stats_.statements.fetch_add(cost.statements, std::memory_order_relaxed);
  if (status.ok()) {
    int64_t rows = 0;
    for (const StatementCall& call : calls) rows += static_cast<int64_t>(call.rows);
    stats_.commits.fetch_add(1, std::memory_order_relaxed);
    stats_.rows.fetch_add(rows, std::memory_order_relaxed);
  }
  return status;
}

}  // namespace papr::storage::pg
