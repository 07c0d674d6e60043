#pragma once

// Cluster membership and shard leases (SCALE-OUT.md, issue 15). Each node heartbeats into the
// store's `nodes`; every node computes the same assignment of shards to the live nodes by
// rendezvous hashing; a node holds a lease on each shard assigned to it (renewed every tick,
// expiring `lease_ttl` after, on the database's clock) whose range_id fences its commits. A
// node that joins gets its shards when their holder lets them go on its next tick; a node
// that stops lets its shards go at once; a node that dies (kill -9) or freezes loses them
// when its lease expires, and its late commits are refused by the fence.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "storage/store.h"

namespace papr::cluster {

struct MembershipOptions {
  storage::NodeInfo node;
  uint32_t shards = 64;                               // EnsureShardCount's answer
  std::chrono::milliseconds heartbeat_interval{2000};  // also how often leases are renewed
  std::chrono::milliseconds lease_ttl{6000};           // and how long a silent node stays live
};

//! What the node does with the shards it gains and loses. Called from Tick (one at a time).
class ShardOwner {
 public:
  virtual ~ShardOwner() = default;
  // The lease is this node's: recover the shard (replay its open executions, re-arm its
  // timers), then serve it, committing with lease.fence().
  virtual void ShardAcquired(const storage::ShardLease& lease) = 0;
  // Stop serving `shard` and drop its state. `handover`: the node lets it go (a rebalance or a
  // shutdown) and releases the lease next; a commit still in flight then is safe (the next
  // owner's range_id bump waits for it, and its replay sees it). Otherwise the lease is lost
  // already (fenced out, or lapsed while the store was away).
  virtual void ShardDropped(uint32_t shard, bool handover) = 0;
};

class Membership {
 public:
  // `store` and `owner` outlive the Membership.
  Membership(storage::Store* store, MembershipOptions options, ShardOwner* owner);
  ~Membership();  // Stop()

  // One round: heartbeat, read the live nodes, then for each shard renew, acquire or let go
  // of its lease as the assignment says. Errors of the store; the first one of the round.
  Status Tick();
  // Ticks every heartbeat_interval on a thread of its own until Stop.
  void Start();
  // Stops ticking, lets every shard go (ShardDropped with handover, then the release) and
  // takes this node out of `nodes`, so that the others take its shards at once.
  void Stop();

  std::vector<storage::ShardLease> Held() const;

 private:
  struct HeldLease {
    storage::ShardLease lease;
    std::chrono::steady_clock::time_point renewed_at;  // when the last renewal was sent
  };
  using Clock = std::chrono::steady_clock;

  Result<std::vector<std::string>> LiveNodeIds();
  Status Renew(uint32_t shard);
  Status TryAcquire(uint32_t shard);
  Status LetGo(uint32_t shard);
  void DropLapsed();
  void Lose(uint32_t shard);

  storage::Store* store_;
  const MembershipOptions options_;
  ShardOwner* owner_;
  mutable std::mutex mu_;         // guards held_ against Held(); Tick runs one at a time
  std::map<uint32_t, HeldLease> held_;
  std::mutex tick_mu_;            // one Tick at a time
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;         // guarded by stop_mu_
  std::thread ticker_;
};

}  // namespace papr::cluster
