#include "engine/engine.h"

#include <chrono>
#include <future>

#include "engine/crash_point.h"
#include "engine/internal/engine_rep.h"

namespace papr::engine {

// ---- Engine

Engine::Engine(storage::Db* db, EngineOptions options) : rep_(new Rep) {
  rep_->db = db;
  rep_->options = options;
}

Engine::~Engine() { Shutdown(); }

void Engine::RegisterWorkflow(const std::string& type, WorkflowFn fn) {
  rep_->workflows[type] = std::move(fn);
}

void Engine::RegisterActivity(const std::string& type, ActivityFn fn, ActivityKind kind) {
  rep_->activity_fns[type] = std::move(fn);
  if (kind == ActivityKind::kBlockingIo) rep_->io_activity_types.insert(type);
}

Status Engine::Start() {
  rep_->runners.Start(rep_->options.runner_threads,
                      [this](std::shared_ptr<Execution>& e) { rep_->Run(e); });
  rep_->workers.Start(rep_->options.activity_workers,
                      [this](ActivityTask& t) { rep_->RunActivity(t); });
  rep_->io_workers.Start(rep_->options.io_activity_workers,
                         [this](ActivityTask& t) { rep_->RunActivity(t); });
  rep_->timer_thread = std::thread([this] { rep_->TimerLoop(); });
  {
    // A start being recorded while the engine was stopped commits before recovery scans.
    std::unique_lock lock(rep_->start_mu);
    rep_->start_cv.wait(lock, [this] { return rep_->starting.empty(); });
    rep_->started = true;
  }
  auto recovery_start = std::chrono::steady_clock::now();
  RecoveryDelayForTest();
  RETURN_IF_ERROR(rep_->Recover());
  rep_->metrics.recovery_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - recovery_start)
                                  .count();
  rep_->is_ready = true;
  rep_->rebuild_thread = std::thread([this] { rep_->RebuildLoop(); });
  if (rep_->options.retention_sweep_ms > 0) {
    rep_->retention_thread = std::thread([this] { rep_->RetentionLoop(); });
  }
  return Status::Ok();
}

void Engine::Shutdown() {
  if (!rep_->started) return;
  rep_->started = false;
  {
    std::lock_guard lock(rep_->timer_mu);
    rep_->stopping = true;
  }
  rep_->timer_cv.notify_all();
  rep_->retention_cv.notify_all();
  rep_->rebuild_cv.notify_all();
  rep_->timer_thread.join();
  if (rep_->rebuild_thread.joinable()) rep_->rebuild_thread.join();
  if (rep_->retention_thread.joinable()) rep_->retention_thread.join();
  rep_->workers.Stop();
  rep_->io_workers.Stop();
  rep_->runners.Stop();
}

bool Engine::ready() const { return rep_->is_ready; }

bool Engine::started() const { return rep_->started; }

Status Engine::StartWorkflow(StartOptions o) {
  if (rep_->workflows.count(o.workflow_type) == 0) {
    return Status::InvalidArgument("no workflow registered as '" + o.workflow_type + "'");
  }
  if (o.workflow_id.empty() || o.workflow_id.find('\0') != std::string::npos) {
    return Status::InvalidArgument("workflow id must be non-empty without NUL bytes");
  }
  const bool cluster = rep_->options.fence_of && rep_->options.shard_of;
  if (cluster && !rep_->options.fence_of(o.workflow_id)) return rep_->PostStart(o);
  Status started = rep_->StartHere(o, "");
  // The shard was lost between the check and the commit (which then changed nothing).
  if (cluster && started.code() == StatusCode::kOwnershipLost) return rep_->PostStart(o);
  return started;
}

Status Engine::Rep::StartHere(const StartOptions& o, std::string_view inbox_key) {
  ASSIGN_OR_RETURN(const bool live, Reserve(o.workflow_id, o.new_id));
  struct Unreserve {
    Rep* rep;
    const std::string& id;
    ~Unreserve() { rep->Unreserve(id); }
  } unreserve{this, o.workflow_id};
  auto exec = std::make_shared<Execution>(o.workflow_id);
  int64_t now = Now();
  exec->now_ms = now;
  exec->record.workflow_type = o.workflow_type;
  exec->record.owner = o.owner;
  exec->record.start_ms = now;
  HistoryEvent& started = exec->AppendEvent(EventType::kWorkflowExecutionStarted);
  started.workflow_type = o.workflow_type;
  started.payload = o.input;
  started.owner = o.owner;
  storage::WriteBatch wb;
  for (const auto& [name, bytes] : o.blobs) {
    wb.Put(Table::kBlobs, storage::BlobKey(o.workflow_id, name), bytes);
  }
  StageNew(*exec, wb);
  if (!inbox_key.empty()) wb.Delete(Table::kInbox, inbox_key);  // applied exactly once
  // The first workflow task runs here, so its commands (the first activities) share the
  // start's commit: one fsync fewer per execution. Nobody else can see `exec` yet.
  exec->batch = &wb;
  exec->StartCoroutine(workflows.at(o.workflow_type), o.input);
  exec->batch = nullptr;
  auto children = StageChildren(*exec, wb);
  Status committed = Commit(*exec, wb, ExecutionStatus::kRunning);
  if (committed.code() == StatusCode::kAlreadyExists) return LostCreateRace(o.workflow_id);
  if (!committed.ok()) {
    // The start may have been applied (UnknownOutcome): a rebuild resumes it if it was.
    if (live && committed.code() == StatusCode::kUnknownOutcome) {
      std::vector<std::string> rebuild{o.workflow_id};
      for (const auto& child : children) rebuild.push_back(child->id());
      ScheduleRebuild(std::move(rebuild));
    }
    return committed;
  }
  CrashPoint("after_start_commit");
  if (!live) return Status::Ok();
  Launch launch = Prepare(exec, std::move(exec->effects));
  launch.new_children = std::move(children);
  if (exec->record.status == ExecutionStatus::kRunning) {
    Publish(exec);
  } else {
    NoteClosed(*exec);  // it ended in its first task
  }
  Start(std::move(launch));
  return Status::Ok();
}

Result<bool> Engine::Rep::Reserve(const std::string& id, bool new_id) {
  std::unique_lock lock(start_mu);
  // While recovery publishes the open executions, a start could race its scan into a second
  // in-memory execution of one id: refuse (callers answer 503). An engine that was never
  // started (engine-admin's direct mode) only records the start: the next Start() resumes it
  // (Start waits for such starts under start_mu, so its scan sees every one). `started` is
  // read after the wait below, under the same lock hold as the insert.
  // A concurrent start of the same id (e.g. one Idempotency-Key sent twice at once): wait for
  // its outcome, so this caller sees the committed execution (AlreadyExists) or starts it
  // itself if that start failed. `starting` only spares this process's losers the work; the
  // commit's Insert of the execution row is what lets one start of an id win across writers.
  start_cv.wait(lock, [&] { return starting.count(id) == 0; });
  const bool live = started;
  if (live && !is_ready) return Status::Unavailable("the engine is recovering; retry shortly");
  if (!new_id) {
    ASSIGN_OR_RETURN(auto existing, db->Get(Table::kExecutions, storage::ExecutionKey(id)));
    if (existing) return Status::AlreadyExists("workflow " + id + " already exists");
  }
  starting.insert(id);
  return live;
}

// The start's Inserts found an id created by another writer after Reserve read it free.
Status Engine::Rep::LostCreateRace(const std::string& id) {
  ASSIGN_OR_RETURN(auto existing, db->Get(Table::kExecutions, storage::ExecutionKey(id)));
  if (existing) return Status::AlreadyExists("workflow " + id + " already exists");
  // A child the first task started was created meanwhile: a retry fails that child instead.
  return Status::Unavailable("a child workflow id of " + id +
                             " was taken by a concurrent start; retry");
}

void Engine::Rep::Unreserve(const std::string& id) {
  {
    std::lock_guard lock(start_mu);
    starting.erase(id);
  }
  start_cv.notify_all();
}

std::shared_ptr<Execution> Engine::Rep::Publish(const std::shared_ptr<Execution>& exec) {
  std::lock_guard lock(mu);
  return executions.try_emplace(exec->id(), exec).first->second;
}

Result<std::shared_ptr<Execution>> Engine::Rep::FindLive(const std::string& id) {
  if (!is_ready) return Status::Unavailable("the engine is recovering; retry shortly");
  {
    // An execution whose start is committing is published before its id is released.
    std::unique_lock lock(start_mu);
    start_cv.wait(lock, [&] { return starting.count(id) == 0; });
  }
  if (auto exec = Find(id)) return exec;
  ASSIGN_OR_RETURN(auto record, Describe(id));
  if (record.status == ExecutionStatus::kRunning && options.fence_of && !options.fence_of(id)) {
    // Fenced, with no inbox to post to (no shard_of): another node owns its shard.
    return Status::FailedPrecondition("workflow " + id + " runs on another node of the cluster");
  }
  if (record.status == ExecutionStatus::kRunning) {
    // Open on disk but not in memory: recovery could not resume it.
    return Status::FailedPrecondition("workflow " + id +
                                      " is open but could not be resumed (see engine-admin "
                                      "describe); it cannot take requests");
  }
  return Status::FailedPrecondition("workflow " + id + " is already " +
                                    ExecutionStatusName(record.status));
}

// Hands `item` to the execution and waits until the transition that handled it is durable.
Status Engine::Rep::Deliver(const std::string& id, InboxItem item) {
  if (options.shard_of && item.inbox_key.empty() && !options.fence_of(id) && !Find(id)) {
    return PostRequest(id, item);  // cluster mode: another node runs it
  }
  ASSIGN_OR_RETURN(auto exec, FindLive(id));
  item.committed = std::make_shared<std::promise<Status>>();
  std::future<Status> done = item.committed->get_future();
  Enqueue(exec, std::move(item));
  if (done.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    return Status::DeadlineExceeded("workflow " + id + " did not record the request in 30 s");
  }
  try {
    return done.get();
  } catch (const std::future_error&) {
    return Status::Unavailable("the engine stopped before recording the request");
  }
}

Status Engine::RequestCancel(const std::string& id, const std::string& reason) {
  InboxItem item;
  item.kind = InboxItem::Kind::kCancel;
  item.payload = reason;
  return rep_->Deliver(id, std::move(item));
}

Status Engine::Terminate(const std::string& id, const std::string& reason) {
  InboxItem item;
  item.kind = InboxItem::Kind::kTerminate;
  item.payload = reason;
  return rep_->Deliver(id, std::move(item));
}

Status Engine::Signal(const std::string& id, const std::string& name, std::string input) {
  InboxItem item;
  item.kind = InboxItem::Kind::kSignal;
  item.name = name;
  item.payload = std::move(input);
  return rep_->Deliver(id, std::move(item));
}

}  // namespace papr::engine
