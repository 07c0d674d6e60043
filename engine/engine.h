#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "engine/execution_record.h"
#include "engine/history_event.h"
#include "engine/workflow.h"
#include "storage/db.h"

namespace papr::engine {

struct EngineOptions {
  // Threads running activities. Default: 16.
  int activity_workers = 4;
  // Threads running activities registered as kBlockingIo (they wait on the network), so a slow
  // webhook receiver cannot starve compute activities. Default: 16.
  int io_activity_workers = 16;
  // Threads applying transitions (one execution runs on one of them at a time). Several let
  // concurrent transitions share one WAL fsync (RocksDB's write group). Default: 8.
  int runner_threads = 8;
  // Closed executions older than this are deleted by the retention sweep. Default: 7 days.
  int64_t retention_ms = 7 * 24 * 3600 * 1000LL;
  // How often a background sweep deletes them (0: only SweepRetention calls). Each sweep
  // deletes at most `retention_max_per_sweep` executions (children count with their root),
  // `retention_per_commit` of them per write; a full sweep is followed by another soon.
  int64_t retention_sweep_ms = 0;
  int64_t retention_max_per_sweep = 1000;
  int64_t retention_per_commit = 100;
  const Clock* clock = SystemClock::Default();
  // Cluster mode (issue 15): the fence of the shard `workflow_id` is in while this node owns
  // it, nullopt while it does not. Every commit of an execution carries its fence; a commit
  // this node may not make (shard not owned, or fenced out: OwnershipLost) drops the execution
  // from memory instead of rebuilding it, since the shard's owner runs it. Start() resumes only
  // executions whose shard is owned then; ResumeWhere resumes a shard acquired later. Empty:
  // this engine owns every execution (RocksDB, or one node on PostgreSQL).
  std::function<std::optional<storage::Fence>(const std::string& workflow_id)> fence_of;
  // With fence_of: the shard of a workflow id. A start this node may not commit is posted to
  // that shard's inbox for its owner (DrainInbox), and reads and subscriptions of executions
  // run elsewhere follow the store (PollRemote).
  std::function<uint32_t(const std::string& workflow_id)> shard_of;
};

struct StartOptions {
  std::string workflow_id;
  std::string workflow_type;
  std::string input;
  std::string owner;  // listing key (e.g. the user); may be empty
  // Large inputs stored once beside the execution, written in the start's commit.
  std::vector<std::pair<std::string, std::string>> blobs;
  // The caller made `workflow_id` up just now (a random UUID): the start does not look for it
  // on disk first. The commit's Insert of the execution row still refuses a taken id.
  bool new_id = false;
};

//! The embedded durable-execution runtime. Histories are the source of truth; derived state
//! (execution rows, activity rows, timers, visibility) is written in the same atomic,
//! synced batch as the events of each transition, and side effects (activity dispatch, timer
//! arming, listeners) run only after that commit. Thread-safe.
class Engine {
 public:
  Engine(storage::Db* db, EngineOptions options);
  ~Engine();

  // Register before Recover/Start.
  void RegisterWorkflow(const std::string& type, WorkflowFn fn);
  // kCompute activities run on `activity_workers` threads (about the core count: more only
  // adds context switches); kBlockingIo ones on their own `io_activity_workers` pool.
  enum class ActivityKind { kCompute, kBlockingIo };
  void RegisterActivity(const std::string& type, ActivityFn fn,
                        ActivityKind kind = ActivityKind::kCompute);

  // Rebuilds open executions from their histories, re-arms timers and re-dispatches
  // activities with no recorded outcome; then starts the threads.
  Status Start();
  // Stops threads. Running activities finish; their results may be dropped (they re-run
  // after the next start: activities are at-least-once).
  void Shutdown();

  // Durably starts an execution (WorkflowExecutionStarted committed and synced) before it
  // returns. AlreadyExists (with no change) when the id is taken (also by another engine on
  // the same store: the execution row is created by an Insert); a concurrent start of the
  // same id waits for that start's outcome first. Unavailable until Start() has recovered.
  // Cluster mode: a start of a shard this node does not own is posted whole to the shard's
  // inbox in one synced write (the owner applies it: DrainInbox) and answered OK once
  // durable; until applied, Describe and ReadHistory answer it as a running execution with
  // its started event.
  // Cancel, terminate and signal: Unavailable while recovering, FailedPrecondition once the
  // execution is closed (or could not be resumed); OK once the request's event is durable.
  // Cluster mode: for an open execution another node runs, OK once the request is posted to
  // its shard's inbox (synced); the owner applies it in a transition whose commit deletes
  // the row.
  Status StartWorkflow(StartOptions options);
  Status RequestCancel(const std::string& workflow_id, const std::string& reason);
  Status Terminate(const std::string& workflow_id, const std::string& reason);
  Status Signal(const std::string& workflow_id, const std::string& name, std::string input);

  Result<ExecutionRecord> Describe(const std::string& workflow_id) const;
  // Events with id > after_event_id, at most `limit` (0: all).
  Result<std::vector<HistoryEvent>> ReadHistory(const std::string& workflow_id,
                                                int64_t after_event_id = 0,
                                                int64_t limit = 0) const;
  // Activity rows with after_id < id <= after_id + limit (only final or backing-off ones
  // exist; absent means scheduled/running or not yet scheduled).
  Result<std::vector<ActivityRecord>> ReadActivities(const std::string& workflow_id,
                                                     int64_t after_id, int64_t limit) const;
  Result<std::optional<std::string>> ReadBlob(const std::string& workflow_id,
                                              const std::string& name) const;
  // Executions of `owner`, newest first, after the cursor `after` (OwnerCursor of the last
  // execution of the previous page; a bare workflow id is accepted too). The listing seeks to
  // the cursor, and a cursor whose execution was deleted meanwhile continues with the next.
  Result<std::vector<ExecutionRecord>> ListByOwner(const std::string& owner, int64_t limit,
                                                   const std::string& after) const;
  // The listing cursor just past `r`: "<workflow id>@<start ms>".
  static std::string OwnerCursor(const ExecutionRecord& r);
  // Executions with this status (any if nullopt), oldest first.
  Result<std::vector<ExecutionRecord>> ListByStatus(std::optional<ExecutionStatus> status,
                                                    int64_t limit) const;

  // Calls fn once after the next commit of this execution (or at once if it is closed).
  // False, without calling fn, if the execution is unknown or open but not live (recovery
  // has not resumed it yet, or could not): the caller answers from Describe. Cluster mode:
  // an open execution not live here is watched in the store instead (PollRemote calls fn
  // once its row changed).
  bool SubscribeOnce(const std::string& workflow_id, std::function<void()> fn);
  // Open executions that recovery could not resume (a history event that does not decode, a
  // gap in event ids, or non-determinism), with the reason; they stay open on disk, run
  // nothing, and wait for an operator (engine-admin reset or fail).
  std::vector<std::pair<std::string, std::string>> Unresumable() const;
  // The reason `workflow_id` could not be resumed, or nullopt.
  std::optional<std::string> ResumeFailure(const std::string& workflow_id) const;
  // Operator repairs of an open execution this engine does not run (engine-admin, server
  // stopped). ForceFail closes it as failed with `reason` (WorkflowExecutionFailed after
  // every stored event). Reset cuts its history back to the longest prefix that decodes,
  // is dense and replays with the registered code, rebuilds its derived state from that
  // prefix, and leaves it open so the next Start() resumes it from there (activities whose
  // outcome was cut run again). Returns the number of events kept.
  Status ForceFail(const std::string& workflow_id, const std::string& reason);
  Result<int64_t> Reset(const std::string& workflow_id);
  // Cluster mode: resumes the open executions that `in_shard` selects (a shard this node just
  // acquired: replay, timers, open activities), as Start's recovery does; returns how many.
  // DropWhere forgets the live executions it selects (a shard this node let go of or lost):
  // they run nothing more here, and their activities' late results are not committed.
  Result<size_t> ResumeWhere(const std::function<bool(const std::string&)>& in_shard);
  size_t DropWhere(const std::function<bool(const std::string&)>& in_shard);
  // Applies the starts, then the requests, posted to the inbox of `shard`, which this node
  // owns and has resumed: each one's commit deletes its row (a start whose id exists
  // meanwhile, or a request of a closed execution, just deletes it). A request waits while
  // its execution is open but not live here. Returns how many rows it consumed.
  Result<size_t> DrainInbox(uint32_t shard);
  // Cluster mode: calls the subscribers (SubscribeOnce) of executions not live here whose row
  // changed since they subscribed (run by another node, or posted and not yet applied).
  void PollRemote();
  // The same for the executions `ids` alone (those another node announced closed).
  void PollRemote(const std::vector<std::string>& ids);
  // True once Start() finished recovery.
  bool ready() const;
  // True once Start() began (false for an engine that only records, e.g. engine-admin's
  // direct mode, whose starts the next server resumes).
  bool started() const;
  // Prometheus text: commit latency and size, activity attempts/latency/retries, workflows by
  // status, recovery time, disk use.
  std::string MetricsText() const;
  // Deletes closed executions past retention (a root with its children, in one write), at
  // most `retention_max_per_sweep`; returns how many.
  Result<int64_t> SweepRetention();

  // Replays `history` against the registered workflow code without side effects. OK, or
  // FailedPrecondition "non-determinism at event N: ..." naming the first mismatch.
  Status ReplayCheck(const std::string& workflow_id,
                     const std::vector<HistoryEvent>& history) const;

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace papr::engine
