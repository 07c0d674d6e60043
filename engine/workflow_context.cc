#include "engine/workflow_context.h"

#include <cstdint>

#include "engine/internal/execution.h"

namespace papr::engine {

const std::string& WorkflowContext::workflow_id() const { return execution_->id(); }

int64_t WorkflowContext::NowMillis() const { return execution_->now_ms; }

int64_t WorkflowContext::StartMillis() const { return execution_->record.start_ms; }

namespace {

// 64-bit FNV-1a: a fixed function of the bytes (std::hash is implementation-defined, so a
// replay on another build could see other numbers).
uint64_t Fnv1a64(const std::string& bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace

uint64_t WorkflowContext::Random() {
  // splitmix64 over (workflow id hash, call count): the same sequence on every replay.
  uint64_t x = Fnv1a64(execution_->id()) + 0x9e3779b97f4a7c15ULL * ++random_calls_;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

bool WorkflowContext::CancelRequested() const { return execution_->record.cancel_requested; }

bool WorkflowContext::IsReplaying() const { return execution_->replaying(); }

void WorkflowContext::StartActivity(const std::string& activity_type, std::string input,
                                    const ActivityOptions& options, int64_t activity_id) {
  execution_->CommandStartActivity(activity_type, std::move(input), options, activity_id);
}

void WorkflowContext::StartTimer(int64_t timer_id, int64_t delay_ms) {
  execution_->CommandStartTimer(timer_id, delay_ms);
}

void WorkflowContext::StartChildWorkflow(const std::string& child_workflow_id,
                                         const std::string& workflow_type, std::string input,
                                         ParentClosePolicy policy) {
  execution_->CommandStartChild(child_workflow_id, workflow_type, std::move(input), policy);
}

int64_t WorkflowContext::GetVersion(const std::string& change_id, int64_t min_supported,
                                    int64_t max_supported) {
  return execution_->CommandGetVersion(change_id, min_supported, max_supported);
}

int64_t WorkflowContext::PendingActivities() const {
  return static_cast<int64_t>(execution_->activities.size());
}

void WorkflowContext::SetProgress(int64_t succeeded, int64_t failed, int64_t canceled) {
  execution_->record.progress_succeeded = succeeded;
  execution_->record.progress_failed = failed;
  execution_->record.progress_canceled = canceled;
}

void WorkflowContext::SetMemo(std::string memo) {
  execution_->record.memo = std::move(memo);
  execution_->record.memo_ms = execution_->now_ms;
}

bool WorkflowContext::NextEventAwaitable::await_ready() const {
  return !execution->ready.empty();
}

void WorkflowContext::NextEventAwaitable::await_suspend(std::coroutine_handle<> h) {
  execution->waiter = h;
}

WorkflowEvent WorkflowContext::NextEventAwaitable::await_resume() {
  WorkflowEvent e = std::move(execution->ready.front());
  execution->ready.pop_front();
  return e;
}

}  // namespace papr::engine
