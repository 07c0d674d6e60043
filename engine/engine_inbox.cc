// Cluster mode: requests for a shard this node does not own (issue 15). A start is posted to
// the shard's inbox in one synced write and applied by the owner in a start whose commit
// deletes the row; reads of a posted start answer it as running, and subscribers of
// executions run elsewhere are called when their row in the store changes.
#include "common/crypto.h"
#include "common/log.h"
#include "engine/internal/engine_rep.h"

namespace papr::engine {
namespace {

// Rows hold whole batches: one round of a drain holds at most this many.
constexpr size_t kPostedPerRound = 16;

}  // namespace

Status Engine::Rep::PostStart(const StartOptions& o) {
  const std::string& id = o.workflow_id;
  if (!o.new_id) {
    ASSIGN_OR_RETURN(auto existing, db->Get(Table::kExecutions, storage::ExecutionKey(id)));
    if (existing) return Status::AlreadyExists("workflow " + id + " already exists");
  }
  storage::WriteBatch wb;
  wb.Insert(Table::kInbox, storage::InboxStartKey(options.shard_of(id), id),
            EncodePostedStart(o, Now()));
  Status s = db->Write(wb);
  if (s.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("workflow " + id + " already exists (posted)");
  }
  if (s.ok()) metrics.inbox_posted++;
  return s;
}

Result<std::optional<PostedStart>> Engine::Rep::FindPosted(const std::string& id) const {
  if (!options.shard_of) return std::optional<PostedStart>();
  ASSIGN_OR_RETURN(auto row, db->Get(Table::kInbox, storage::InboxStartKey(options.shard_of(id), id)));
  if (!row) return std::optional<PostedStart>();
  ASSIGN_OR_RETURN(PostedStart posted, DecodePostedStart(*row));
  return std::optional<PostedStart>(std::move(posted));
}

Status Engine::Rep::ApplyPosted(std::string_view key, std::string_view value) {
  const std::string id(key.substr(storage::InboxStartPrefix(0).size()));
  auto posted = DecodePostedStart(value);
  if (!posted.ok()) return Status::Corruption("inbox row of " + id + ": " + posted.status().message());
  posted->options.workflow_id = id;
  Status s = StartHere(posted->options, key);
  if (s.code() != StatusCode::kAlreadyExists) {
    if (s.ok()) metrics.inbox_applied++;
    return s;
  }
  // Started already (an Idempotency-Key replayed to two nodes, or a start that committed
  // before a crash): the row has done its work.
  std::optional<storage::Fence> fence = options.fence_of(id);
  if (!fence) return Status::OwnershipLost("this node does not own the shard of workflow " + id);
  storage::WriteBatch wb;
  wb.SetFence(*fence);
  wb.Delete(Table::kInbox, key);
  return db->Write(wb);
}

namespace {

PostedRequest::Kind RequestKindOf(InboxItem::Kind kind) {
  switch (kind) {
    case InboxItem::Kind::kTerminate:
      return PostedRequest::Kind::kTerminate;
    case InboxItem::Kind::kSignal:
      return PostedRequest::Kind::kSignal;
    default:
      return PostedRequest::Kind::kCancel;
  }
}

InboxItem::Kind ItemKindOf(PostedRequest::Kind kind) {
  switch (kind) {
    case PostedRequest::Kind::kTerminate:
      return InboxItem::Kind::kTerminate;
    case PostedRequest::Kind::kSignal:
      return InboxItem::Kind::kSignal;
    case PostedRequest::Kind::kCancel:
      break;
  }
  return InboxItem::Kind::kCancel;
}

}  // namespace

Status Engine::Rep::PostRequest(const std::string& id, const InboxItem& item) {
  ASSIGN_OR_RETURN(ExecutionRecord record, Describe(id));  // a posted start reads as running
  if (record.status != ExecutionStatus::kRunning) return AlreadyClosed(record);
  PostedRequest request{RequestKindOf(item.kind), item.name, item.payload, Now()};
  storage::WriteBatch wb;
  wb.Put(Table::kInbox, storage::InboxRequestKey(options.shard_of(id), id, RandomHexId()),
         EncodePostedRequest(request));
  RETURN_IF_ERROR(db->Write(wb));
  metrics.inbox_posted++;
  return Status::Ok();
}

Result<bool> Engine::Rep::ApplyRequest(std::string_view key, std::string_view value) {
  std::string_view id_view;
  if (!storage::DecodeInboxRequestKey(key, &id_view)) return Status::Corruption("bad inbox key");
  const std::string id(id_view);
  ASSIGN_OR_RETURN(PostedRequest request, DecodePostedRequest(value));
  if (Find(id) != nullptr) {
    InboxItem item;
    item.kind = ItemKindOf(request.kind);
    item.name = std::move(request.name);
    item.payload = std::move(request.payload);
    item.inbox_key = std::string(key);
    Status s = Deliver(id, std::move(item));  // its commit deletes the row
    if (s.ok()) metrics.inbox_applied++;
    if (s.ok() || s.code() == StatusCode::kFailedPrecondition) return true;  // closed meanwhile
    return s;
  }
  auto record = Describe(id);
  if (!record.ok() && record.status().code() != StatusCode::kNotFound) return record.status();
  if (record.ok() && record->status == ExecutionStatus::kRunning) {
    return false;  // open, not live here (not resumed): it waits for the execution
  }
  // Closed (or gone): nothing to apply it to.
  std::optional<storage::Fence> fence = options.fence_of(id);
  if (!fence) return Status::OwnershipLost("this node does not own the shard of workflow " + id);
  storage::WriteBatch wb;
  wb.SetFence(*fence);
  wb.Delete(Table::kInbox, key);
  RETURN_IF_ERROR(db->Write(wb));
  return true;
}

namespace {

// Calls `apply` for each row with `prefix`, kPostedPerRound at a time, until a round takes
// no row (an applied row is deleted; one that waits is skipped after).
Result<size_t> DrainPrefix(storage::Db& db, const std::string& prefix,
                           const std::function<Result<bool>(std::string_view, std::string_view)>& apply) {
  std::string start = prefix;
  std::string end = prefix;
  end.back() = static_cast<char>(end.back() + 1);
  size_t consumed = 0;
  while (true) {
    std::vector<std::pair<std::string, std::string>> rows;
    RETURN_IF_ERROR(db.ScanRange(Table::kInbox, start, end,
                                 [&](std::string_view k, std::string_view v) {
                                   rows.emplace_back(k, v);
                                   return rows.size() < kPostedPerRound;
                                 }));
    for (const auto& [key, value] : rows) {
      ASSIGN_OR_RETURN(bool taken, apply(key, value));
      consumed += taken ? 1 : 0;
    }
    if (rows.size() < kPostedPerRound) return consumed;
    start = rows.back().first + '\0';  // past the last row, applied or waiting
  }
}

}  // namespace

Result<size_t> Engine::DrainInbox(uint32_t shard) {
  if (!rep_->options.shard_of) return size_t{0};
  if (!rep_->is_ready) return Status::Unavailable("the engine is recovering");
  // Starts first: a request posted for a start not applied yet then finds its execution.
  ASSIGN_OR_RETURN(size_t starts,
                   DrainPrefix(*rep_->db, storage::InboxStartPrefix(shard),
                               [&](std::string_view k, std::string_view v) -> Result<bool> {
                                 RETURN_IF_ERROR(rep_->ApplyPosted(k, v));
                                 return true;
                               }));
  ASSIGN_OR_RETURN(size_t requests,
                   DrainPrefix(*rep_->db, storage::InboxRequestPrefix(shard),
                               [&](std::string_view k, std::string_view v) {
                                 return rep_->ApplyRequest(k, v);
                               }));
  return starts + requests;
}

bool Engine::Rep::WatchRemote(const ExecutionRecord& seen, std::function<void()> fn) {
  if (!options.shard_of || seen.status != ExecutionStatus::kRunning) return false;
  std::lock_guard lock(remote_mu);
  remote_watches[seen.workflow_id].push_back({seen, std::move(fn)});
  return true;
}

void Engine::PollRemote() { rep_->PollRemote(nullptr); }

void Engine::PollRemote(const std::vector<std::string>& ids) { rep_->PollRemote(&ids); }

void Engine::Rep::PollRemote(const std::vector<std::string>* only) {
  std::unordered_map<std::string, std::vector<RemoteWatch>> watches;
  {
    std::lock_guard lock(remote_mu);
    if (only == nullptr) {
      watches.swap(remote_watches);
    } else {
      for (const std::string& id : *only) {
        auto it = remote_watches.find(id);
        if (it == remote_watches.end()) continue;
        watches.emplace(id, std::move(it->second));
        remote_watches.erase(it);
      }
    }
  }
  std::vector<std::function<void()>> due;
  for (auto& [id, list] : watches) {
    auto now = Describe(id);
    if (!now.ok() && now.status().code() != StatusCode::kNotFound) continue;  // look again
    std::erase_if(list, [&](RemoteWatch& w) {
      if (now.ok() && *now == w.seen) return false;
      due.push_back(std::move(w.fn));
      return true;
    });
  }
  {
    std::lock_guard lock(remote_mu);
    for (auto& [id, list] : watches) {
      if (list.empty()) continue;
      auto& into = remote_watches[id];
      into.insert(into.end(), std::make_move_iterator(list.begin()),
                  std::make_move_iterator(list.end()));
    }
  }
  for (auto& fn : due) fn();
}

}  // namespace papr::engine
