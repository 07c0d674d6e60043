#pragma once

#include <atomic>
#include <coroutine>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/execution_record.h"
#include "engine/history_event.h"
#include "engine/retry_policy.h"
#include "engine/workflow.h"
#include "engine/workflow_context.h"
#include "storage/db.h"

namespace papr::engine::internal {

//! An activity scheduled and not yet finished.
struct PendingActivity {
  std::string type;
  std::string input;
  ActivityOptions options;
  int64_t scheduled_event_id = 0;
  int64_t scheduled_ms = 0;
  int64_t attempt = 1;
  bool backing_off = false;
  std::string last_error;  // of the last failed attempt, for a timeout's message
  // Last heartbeat of the current attempt (engine clock), written by its worker.
  std::shared_ptr<std::atomic<int64_t>> last_heartbeat_ms;
};

//! Work for an execution's runner, produced by activity workers, timers and API calls.
struct InboxItem {
  enum class Kind { kStartCoroutine, kChildClosed, kActivityResult, kActivityRetryDue, kUserTimer, kSignal, kCancel, kTerminate,
                    kActivityDeadline, kHeartbeatCheck };
  Kind kind = Kind::kActivityResult;
  int64_t activity_id = 0;
  int64_t attempt = 0;
  ActivityResult result;
  int64_t timer_id = 0;
  std::string timer_key;  // kTimers row to delete when handled
  std::string child_progress;  // kChildClosed: EncodeChildProgress of the child
  std::string name;
  std::string payload;
  // Set by API calls that answer only once their event is durable (cancel, terminate,
  // signal): fulfilled after the commit of the transition that handled the item.
  std::shared_ptr<std::promise<Status>> committed;
  // A request posted by another cluster node: its kInbox row, deleted by the commit that
  // handles the item (so it is applied once).
  std::string inbox_key;
};

//! What a transition asks for once its commit is durable.
struct Effects {
  struct Dispatch {
    int64_t activity_id;
    int64_t attempt;
    bool resumed = false;  // ActivityCall::resumed
  };
  struct Arm {
    int64_t fire_ms;
    std::string timer_key;
    InboxItem item;
  };
  struct Child {
    std::string id, type, input;
  };
  std::vector<Dispatch> dispatches;
  std::vector<Arm> timers;
  struct ChildRequest {
    std::string child_id;
    InboxItem item;  // kTerminate or kCancel; timer_key: its outbox row
  };
  std::vector<Child> children;       // started in this transition (written by the engine)
  std::vector<InboxItem> self_items; // to hand back to this execution after the commit
  bool cancel_children = false;      // pass a cancel request on to open children
  std::vector<ChildRequest> parent_close;  // recorded by this (closing) commit
};

//! An open child of an execution, and what it gets when the parent closes.
struct OpenChild {
  std::string type;
  ParentClosePolicy policy = ParentClosePolicy::kTerminate;
};

// The child_progress attribute of ChildWorkflowExecutionCompleted: the closed child's
// progress counters (three signed varints).
std::string EncodeChildProgress(const ExecutionRecord& child);
void DecodeChildProgress(std::string_view in, WorkflowEvent* out);

//! One workflow execution in memory: derived state, the live coroutine and its inbox. All
//! fields but the inbox are touched only by the one runner thread working on it at a time.
class Execution {
 public:
  explicit Execution(std::string id) : ctx(this) { record.workflow_id = std::move(id); }

  const std::string& id() const { return record.workflow_id; }

  // ---- Called by workflow code through WorkflowContext.
  void CommandStartActivity(const std::string& type, std::string input,
                            const ActivityOptions& options, int64_t activity_id);
  void CommandStartTimer(int64_t timer_id, int64_t delay_ms);
  void CommandStartChild(const std::string& child_id, const std::string& type, std::string input,
                         ParentClosePolicy policy);
  // version_marker.cc
  int64_t CommandGetVersion(const std::string& change_id, int64_t min_supported,
                            int64_t max_supported);

  // ---- Transition building (runner).
  // Appends a new event (live) or, while replaying, checks the workflow's command against the
  // next recorded event. Returns the event (recorded or new).
  const HistoryEvent* Command(HistoryEvent proposed);
  // Appends a non-command event (live only).
  HistoryEvent& AppendEvent(EventType type);
  // Applies a non-command event (live or replayed): updates state, feeds the coroutine.
  void ApplyObserved(const HistoryEvent& event, bool from_replay = false);
  // Resumes the coroutine while it waits and events are ready; closes on completion.
  void Pump();
  void StartCoroutine(const WorkflowFn& fn, const std::string& input);

  ExecutionRecord record;
  WorkflowContext ctx;
  WorkflowTask task;
  std::coroutine_handle<> waiter;
  std::deque<WorkflowEvent> ready;
  std::map<int64_t, PendingActivity> activities;
  std::map<std::string, OpenChild> children;    // open child id -> type, close policy
  std::set<std::string> timer_keys;             // kTimers rows this execution has pending
  std::set<int64_t> pending_user_timers;        // started and not yet fired
  int64_t now_ms = 0;  // time of the event being applied
  std::map<std::string, int64_t> versions;      // GetVersion answers, by change id

  // The transition being built.
  std::vector<HistoryEvent> new_events;
  storage::WriteBatch* batch = nullptr;
  Effects effects;
  bool closed_now = false;

  // Replay state.
  const std::vector<HistoryEvent>* replay = nullptr;
  size_t replay_pos = 0;
  Status replay_error;
  bool replaying() const { return replay != nullptr && replay_pos < replay->size(); }

  // Inbox, guarded by inbox_mu.
  std::mutex inbox_mu;
  std::deque<InboxItem> inbox;
  bool queued = false;
  bool closed = false;  // set by the runner once the closing transition is committed
  bool broken = false;  // a commit failed: state may differ from disk; being rebuilt
  std::vector<std::function<void()>> listeners;  // called after the next commit
  // The executions row as of this process's last commit of it ("" before the first): what the
  // store holds while the execution is live and not broken, so Describe need not read it.
  std::string committed_row;
};

}  // namespace papr::engine::internal
