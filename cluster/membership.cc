#include "cluster/membership.h"

#include <algorithm>
#include <utility>

#include "cluster/rendezvous.h"

namespace papr::cluster {

Membership::Membership(storage::Store* store, MembershipOptions options, ShardOwner* owner)
    : store_(store), options_(std::move(options)), owner_(owner) {}

Membership::~Membership() { Stop(); }

Result<std::vector<std::string>> Membership::LiveNodeIds() {
  ASSIGN_OR_RETURN(std::vector<storage::NodeInfo> live, store_->LiveNodes(options_.lease_ttl));
  std::vector<std::string> ids;
  for (const storage::NodeInfo& node : live) ids.push_back(node.node_id);
  // This node's heartbeat just landed; it counts itself even if a slow round trip aged it.
  if (std::find(ids.begin(), ids.end(), options_.node.node_id) == ids.end()) {
    ids.push_back(options_.node.node_id);
  }
  return ids;
}

Status Membership::Tick() {
  std::lock_guard<std::mutex> tick(tick_mu_);
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stopping_) return Status::FailedPrecondition("the membership of this node has stopped");
  }
  Status first = store_->Heartbeat(options_.node);
  Result<std::vector<std::string>> ids =
      first.ok() ? LiveNodeIds() : Result<std::vector<std::string>>(first);
  if (!ids.ok()) {
    DropLapsed();  // the store is away: a lease not renewed in time may be another's now
    return ids.status();
  }
  for (uint32_t shard = 0; shard < options_.shards; ++shard) {
    const bool mine = (*ids)[RendezvousOwner(shard, *ids)] == options_.node.node_id;
    bool held;
    {
      std::lock_guard<std::mutex> lock(mu_);
      held = held_.count(shard) > 0;
    }
    Status s = held ? (mine ? Renew(shard) : LetGo(shard))
                    : (mine ? TryAcquire(shard) : Status::Ok());
    if (first.ok() && !s.ok()) first = s;
  }
  return first;
}

Status Membership::Renew(uint32_t shard) {
  storage::ShardLease lease;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lease = held_.at(shard).lease;
  }
  const Clock::time_point sent = Clock::now();
  Status renewed = store_->RenewShard(lease, options_.lease_ttl);
  if (renewed.code() == StatusCode::kOwnershipLost) {
    Lose(shard);
    return Status::Ok();  // another node's now: not an error of this round
  }
  if (!renewed.ok()) {
    DropLapsed();
    return renewed;
  }
  std::lock_guard<std::mutex> lock(mu_);
  held_.at(shard).renewed_at = sent;
  return Status::Ok();
}

Status Membership::TryAcquire(uint32_t shard) {
  const Clock::time_point sent = Clock::now();
  Result<storage::ShardLease> lease =
      store_->AcquireShard(shard, options_.node.node_id, options_.lease_ttl);
  // Another node's lease is still live: it lets go on its next tick, or lapses.
  if (lease.status().code() == StatusCode::kFailedPrecondition) return Status::Ok();
  if (!lease.ok()) return lease.status();
  {
    std::lock_guard<std::mutex> lock(mu_);
    held_[shard] = HeldLease{*lease, sent};
  }
  owner_->ShardAcquired(*lease);
  return Status::Ok();
}

Status Membership::LetGo(uint32_t shard) {
  storage::ShardLease lease;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lease = held_.at(shard).lease;
    held_.erase(shard);
  }
  owner_->ShardDropped(shard, /*handover=*/true);
  Status released = store_->ReleaseShard(lease);
  // Fenced out meanwhile: someone has it already, which is what letting go is for.
  return released.code() == StatusCode::kOwnershipLost ? Status::Ok() : released;
}

// A lease whose last renewal was sent lease_ttl ago may have expired on the database: stop
// serving its shard before another node could take it (the fence refuses late commits anyway).
void Membership::DropLapsed() {
  std::vector<uint32_t> lapsed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [shard, held] : held_) {
      if (Clock::now() - held.renewed_at >= options_.lease_ttl) lapsed.push_back(shard);
    }
  }
  for (uint32_t shard : lapsed) Lose(shard);
}

void Membership::Lose(uint32_t shard) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (held_.erase(shard) == 0) return;
  }
  owner_->ShardDropped(shard, /*handover=*/false);
}

void Membership::Start() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  if (ticker_.joinable() || stopping_) return;
  ticker_ = std::thread([this] {
    std::unique_lock<std::mutex> wait(stop_mu_);
    while (!stopping_) {
      wait.unlock();
      Tick().IgnoreError();  // a round that failed is retried by the next
      wait.lock();
      stop_cv_.wait_for(wait, options_.heartbeat_interval, [this] { return stopping_; });
    }
  });
}

void Membership::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  std::lock_guard<std::mutex> tick(tick_mu_);
  std::vector<uint32_t> shards;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& entry : held_) shards.push_back(entry.first);
  }
  for (uint32_t shard : shards) LetGo(shard).IgnoreError();  // unreleased: lapses after the TTL
  store_->RemoveNode(options_.node.node_id).IgnoreError();
}

std::vector<storage::ShardLease> Membership::Held() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<storage::ShardLease> out;
  for (const auto& entry : held_) out.push_back(entry.second.lease);
  return out;
}

}  // namespace papr::cluster
