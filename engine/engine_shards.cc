// Cluster mode: an engine runs the executions of the shards its node owns (issue 15). Taking a
// shard resumes its open executions from the store; letting one go forgets them here. The
// fence on every commit (EngineOptions::fence_of) is what keeps a node that lost a shard from
// writing to it; these calls only keep the in-memory work in step with ownership.
#include <algorithm>

#include "common/log.h"
#include "engine/internal/engine_rep.h"

namespace papr::engine {

Result<size_t> Engine::ResumeWhere(const std::function<bool(const std::string&)>& in_shard) {
  if (!rep_->is_ready) return Status::Unavailable("the engine has not finished starting");
  ASSIGN_OR_RETURN(std::vector<std::string> ids, rep_->OpenIds());
  std::erase_if(ids, [&](const std::string& id) { return !in_shard(id); });
  ASSIGN_OR_RETURN(const size_t resumed, rep_->ResumeReserved(ids));
  log::Info("workflows of an acquired shard resumed", {{"workflows", std::to_string(resumed)}});
  return resumed;
}

size_t Engine::DropWhere(const std::function<bool(const std::string&)>& in_shard) {
  std::vector<std::shared_ptr<Execution>> dropped;
  {
    std::lock_guard lock(rep_->mu);
    for (auto it = rep_->executions.begin(); it != rep_->executions.end();) {
      if (!in_shard(it->first)) {
        ++it;
        continue;
      }
      dropped.push_back(it->second);
      it = rep_->executions.erase(it);
    }
  }
  // A transition of one of them still running finds its shard gone at commit (fence_of) and
  // commits nothing; requests to them now answer as for an execution not live here.
  std::vector<std::function<void()>> listeners;
  for (const auto& exec : dropped) {
    std::lock_guard lock(exec->inbox_mu);
    exec->broken = true;
    for (auto& fn : exec->listeners) listeners.push_back(std::move(fn));
    exec->listeners.clear();
  }
  // No commit of theirs comes here any more: their subscribers look again now (and then
  // follow the store, SubscribeOnce).
  for (auto& fn : listeners) fn();
  return dropped.size();
}

}  // namespace papr::engine
