// Cluster mode: requests for a shard this node does not own (issue 15). A start is posted to
// the shard's inbox in one synced write and applied by the owner in a start whose commit
// deletes the row; reads of a posted start answer it as running, and subscribers of
// executions run elsewhere are called when their row in the store changes.
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

Result<size_t> Engine::DrainInbox(uint32_t shard) {
  if (!rep_->options.shard_of) return size_t{0};
  if (!rep_->is_ready) return Status::Unavailable("the engine is recovering");
  const std::string start = storage::InboxStartPrefix(shard);
  std::string end = start;
  end.back() = static_cast<char>(end.back() + 1);
  size_t consumed = 0;
  while (true) {
    std::vector<std::pair<std::string, std::string>> rows;
    RETURN_IF_ERROR(rep_->db->ScanRange(Table::kInbox, start, end,
                                        [&](std::string_view k, std::string_view v) {
                                          rows.emplace_back(k, v);
                                          return rows.size() < kPostedPerRound;
                                        }));
    for (const auto& [key, value] : rows) {
      RETURN_IF_ERROR(rep_->ApplyPosted(key, value));
      ++consumed;
    }
    if (rows.size() < kPostedPerRound) return consumed;
  }
}

bool Engine::Rep::WatchRemote(const ExecutionRecord& seen, std::function<void()> fn) {
  if (!options.shard_of || seen.status != ExecutionStatus::kRunning) return false;
  std::lock_guard lock(remote_mu);
  remote_watches[seen.workflow_id].push_back({seen, std::move(fn)});
  return true;
}

void Engine::PollRemote() {
  std::unordered_map<std::string, std::vector<Rep::RemoteWatch>> watches;
  {
    std::lock_guard lock(rep_->remote_mu);
    watches.swap(rep_->remote_watches);
  }
  std::vector<std::function<void()>> due;
  for (auto& [id, list] : watches) {
    auto now = rep_->Describe(id);
    if (!now.ok() && now.status().code() != StatusCode::kNotFound) continue;  // look again
    std::erase_if(list, [&](Rep::RemoteWatch& w) {
      if (now.ok() && *now == w.seen) return false;
      due.push_back(std::move(w.fn));
      return true;
    });
  }
  {
    std::lock_guard lock(rep_->remote_mu);
    for (auto& [id, list] : watches) {
      if (list.empty()) continue;
      auto& into = rep_->remote_watches[id];
      into.insert(into.end(), std::make_move_iterator(list.begin()),
                  std::make_move_iterator(list.end()));
    }
  }
  for (auto& fn : due) fn();
}

}  // namespace papr::engine
