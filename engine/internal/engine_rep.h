#pragma once
// The engine's shared state, split over engine.cc (public API), engine_transitions.cc (runner,
// activities, timers), engine_recovery.cc (replay, recovery) and engine_queries.cc (reads).
// Internal: include only from engine/*.cc.

#include <array>
#include <map>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <queue>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/engine.h"
#include "engine/engine_metrics.h"
#include "engine/inbox_rows.h"
#include "engine/internal/closed_row_cache.h"
#include "engine/internal/execution.h"
#include "engine/internal/work_queue.h"
#include "storage/keys.h"

namespace papr::engine {
namespace internal {

struct ActivityTask {
  std::shared_ptr<Execution> execution;
  ActivityCall call;
};

struct TimerEntry {
  int64_t fire_ms;
  std::string workflow_id;
  InboxItem item;
  bool operator>(const TimerEntry& o) const { return fire_ms > o.fire_ms; }
};

// Timer ids of activity retries ("a:<activity>:<attempt>"); user timers are "t:<id>"; a
// closed parent's request to its child is "p:t" (terminate) or "p:c" (cancel), due at once,
// its row value the reason.
std::string RetryTimerId(int64_t activity_id, int64_t attempt);
// Parses a timer id back into its inbox item; false for an id this engine did not write.
bool ParseTimerId(std::string_view id, InboxItem* item);
// The parent's inbox item telling that child `r` closed.
InboxItem ChildClosedItem(const ExecutionRecord& r);
// The answer to a signal, cancel or terminate that reached an execution after its close: it
// is not recorded, so it must not look accepted.
inline Status AlreadyClosed(const ExecutionRecord& r) {
  return Status::FailedPrecondition("workflow " + r.workflow_id + " is already " +
                                    ExecutionStatusName(r.status));
}

}  // namespace internal

using internal::ActivityTask;
using internal::AlreadyClosed;
using internal::ChildClosedItem;
using internal::Effects;
using internal::Execution;
using internal::InboxItem;
using internal::ParseTimerId;
using internal::RetryTimerId;
using internal::TimerEntry;
using internal::WorkQueue;
using storage::Table;

struct Engine::Rep {
  storage::Db* db;
  EngineOptions options;
  std::unordered_map<std::string, WorkflowFn> workflows;
  std::unordered_map<std::string, ActivityFn> activity_fns;

  mutable std::mutex mu;  // executions map
  std::unordered_map<std::string, std::shared_ptr<Execution>> executions;
  // The rows of executions closed here lately: Describe's answer once they leave `executions`.
  internal::ClosedRowCache closed_rows{4096, 8 << 20, 10000};
  std::map<std::string, std::string> unresumable;  // open ids recovery could not resume: why
  std::mutex start_mu;  // guards `starting`
  std::condition_variable start_cv;  // signalled when an id leaves `starting`
  std::unordered_set<std::string> starting;  // ids whose start is being committed

  WorkQueue<std::shared_ptr<Execution>> runners;
  WorkQueue<ActivityTask> workers;     // compute activities
  WorkQueue<ActivityTask> io_workers;  // activities that block on the network
  std::unordered_set<std::string> io_activity_types;

  std::mutex timer_mu;
  std::condition_variable timer_cv;
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timers;
  std::thread timer_thread;
  bool stopping = false;
  std::atomic<bool> is_ready{false};
  EngineMetrics metrics;
  std::array<std::atomic<int64_t>, 6> closed_by_status{};  // index: ExecutionStatus
  std::atomic<bool> started{false};  // Start() began (threads run; recovery may still run)

  int64_t Now() const { return options.clock->NowMillis(); }
  std::shared_ptr<Execution> Find(const std::string& id) const {
    std::lock_guard lock(mu);
    auto it = executions.find(id);
    return it == executions.end() ? nullptr : it->second;
  }
  // Claims `id` for a start: waits out a concurrent start of the same id; AlreadyExists when
  // it is on disk. Pair with Unreserve.
  // true: the engine runs (false: record only). `new_id`: StartOptions::new_id.
  Result<bool> Reserve(const std::string& id, bool new_id);
  // The answer to a start whose commit failed with AlreadyExists (another writer created an
  // id it inserts): AlreadyExists when that id is the start's own, else Unavailable.
  Status LostCreateRace(const std::string& id);
  void Unreserve(const std::string& id);
  // Starts `o` on this node; its commit also deletes `inbox_key` when not empty (the posted
  // start it applies).
  Status StartHere(const StartOptions& o, std::string_view inbox_key);
  // engine_inbox.cc (cluster mode): posts a start for the owner of its shard.
  Status PostStart(const StartOptions& o);
  // The start of `id` posted and not applied yet, if any.
  Result<std::optional<PostedStart>> FindPosted(const std::string& id) const;
  // Applies one posted start (DrainInbox), deleting its row.
  Status ApplyPosted(std::string_view key, std::string_view value);
  // Posts `item` (a cancel, terminate or signal) for the owner of `id`'s shard, once `id` is
  // known to be open.
  Status PostRequest(const std::string& id, const InboxItem& item);
  // Applies one posted request (DrainInbox). False when it waits (its execution is open but
  // not live here yet).
  Result<bool> ApplyRequest(std::string_view key, std::string_view value);
  // Subscribers of executions not live here, with the record each one saw (PollRemote).
  struct RemoteWatch {
    ExecutionRecord seen;
    std::function<void()> fn;
  };
  std::mutex remote_mu;
  std::unordered_map<std::string, std::vector<RemoteWatch>> remote_watches;  // by workflow id
  bool WatchRemote(const ExecutionRecord& seen, std::function<void()> fn);
  // Calls the remote watchers whose execution's row changed: of every watched execution, or
  // of those in `only`.
  void PollRemote(const std::vector<std::string>* only);
  // The one way an execution enters the map: never replaces a live one (there is at most one
  // in-memory execution per id). Returns the execution that is live for the id.
  std::shared_ptr<Execution> Publish(const std::shared_ptr<Execution>& exec);
  // The live execution of `id` for a request: Unavailable while recovering,
  // FailedPrecondition when it is closed or could not be resumed, NotFound when unknown.
  Result<std::shared_ptr<Execution>> FindLive(const std::string& id);
  void Enqueue(const std::shared_ptr<Execution>& exec, InboxItem item);
  Status Deliver(const std::string& id, InboxItem item);
  Result<ExecutionRecord> Describe(const std::string& id) const;
  // Events of `id` after `after` in the store, at most `limit` (0: all): Engine::ReadHistory.
  Result<std::vector<HistoryEvent>> ReadStoredHistory(const std::string& id, int64_t after,
                                                      int64_t limit) const;
  void Run(const std::shared_ptr<Execution>& exec);
  bool ApplyInbox(Execution& exec, InboxItem& item);
  bool ApplyActivityResult(Execution& exec, InboxItem& item);
  Status Commit(Execution& exec, storage::WriteBatch& wb, ExecutionStatus status_before);
  // Counts and logs a close; called once, by whoever committed the closing transition.
  void NoteClosed(const Execution& exec);
  // Parent-close policy: the closing commit of `exec` records, as outbox rows in kTimers, the
  // request each open child gets; the child deletes its row in the commit that handles it.
  void StageParentClose(Execution& exec, storage::WriteBatch& wb);
  //! Effects made self-contained (copies of activity inputs), so they can be launched after
  //! the runner gave up the execution.
  struct Launch {
    std::vector<ActivityTask> tasks;
    std::vector<TimerEntry> timers;
    std::vector<std::shared_ptr<Execution>> new_children;  // publish, then start them
    std::vector<std::string> cancel_children;  // pass on a cancel request (in memory)
    std::vector<Effects::ChildRequest> parent_close;  // recorded in the closing commit
    std::string notify_parent;  // closed child: tell this parent
    InboxItem parent_item;
    std::shared_ptr<Execution> self;
    std::vector<InboxItem> self_items;  // e.g. a child that could not start
  };
  // Creates the children `exec` started in this transition, staging their first writes in
  // `wb` (one commit with the parent's Initiated events).
  std::vector<std::shared_ptr<Execution>> StageChildren(Execution& exec, storage::WriteBatch& wb);
  void StageNew(Execution& exec, storage::WriteBatch& wb);
  // REQUIRES: the caller owns `exec` (its runner, or the starter before publishing it).
  Launch Prepare(const std::shared_ptr<Execution>& exec, Effects effects);
  void Start(Launch launch);
  void Arm(int64_t fire_ms, const std::string& workflow_id, InboxItem item);
  void TimerLoop();
  void RunActivity(ActivityTask& task);
  // Activity timeouts the runner checks on timers (engine_activity_timeouts.cc): arms the
  // schedule-to-close deadline and heartbeat check of a dispatched attempt, and wires `call`'s
  // heartbeat; then applies them when they fall due.
  void ArmActivityTimeouts(internal::PendingActivity& a, ActivityCall& call,
                           std::vector<TimerEntry>& timers);
  bool ApplyActivityDeadline(Execution& exec, InboxItem& item);
  bool ApplyHeartbeatCheck(Execution& exec, InboxItem& item);
  // Resumes every execution open on disk (at Start).
  Status Recover();
  // Loads, replays and publishes the open executions among `ids` that are not live (absent, or
  // left broken by a failed commit), arms their timers and launches their work. Returns how
  // many it resumed. REQUIRES: no other start or resume of these ids runs meanwhile (Start's
  // recovery runs before starts are taken; a rebuild reserves its ids in `starting`).
  Result<size_t> Resume(const std::vector<std::string>& ids);
  // Resume with the ids reserved in `starting` meanwhile (waiting out a start or resume of
  // any of them): safe while the engine runs.
  Result<size_t> ResumeReserved(const std::vector<std::string>& ids);
  // The ids of the executions open on disk (the visibility index of running ones).
  Result<std::vector<std::string>> OpenIds() const;
  bool IsLive(const std::string& id) const;  // in the map and not broken
  // engine_rebuild.cc: an execution whose commit failed (the store was unreachable, or the
  // outcome is unknown) is dropped and rebuilt from the store, retried with backoff until
  // the store answers. `ids`: the execution and any children its failed commit created.
  void ScheduleRebuild(std::vector<std::string> ids);
  void RebuildLoop();
  Status Rebuild(const std::vector<std::string>& ids);
  std::thread rebuild_thread;  // stops with `stopping` (under timer_mu)
  std::condition_variable rebuild_cv;
  std::set<std::string> rebuild_pending;  // guarded by timer_mu
  // Retention (engine_retention.cc).
  Result<int64_t> SweepRetention();
  Status StageDeletion(const ExecutionRecord& r, storage::WriteBatch& wb, int64_t* deleted);
  void RetentionLoop();
  std::thread retention_thread;  // stops with `stopping` (under timer_mu)
  std::condition_variable retention_cv;
  Status Replay(Execution& exec, const std::vector<HistoryEvent>& history) const;
  // engine_repair.cc: `id` is open on disk and not run by this engine (its record in `record`).
  Status CheckRepairable(const std::string& id, ExecutionRecord* record) const;
  Status StageTimerDeletes(const std::string& id, storage::WriteBatch& wb) const;
  void PutActivityRow(storage::WriteBatch& wb, const std::string& id, const ActivityRecord& r) {
    wb.Put(Table::kActivities, storage::ActivityKey(id, static_cast<uint64_t>(r.activity_id)),
           EncodeActivityRecord(r));
  }
};

}  // namespace papr::engine
