#pragma once

// One papr-server node of a cluster (issue 15): its membership and shard leases, and the
// engine kept in step with them. A shard it acquires is resumed (its open executions replayed)
// and only then serves: the starts other nodes posted to its inbox are applied, at once and
// every inbox_poll; a shard it loses is dropped from the engine. Executions of shards owned
// elsewhere are followed in the store (Engine::PollRemote) for `?wait=` and streams.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "cluster/membership.h"
#include "cluster/shard_drainers.h"
#include "cluster/shard_table.h"
#include "common/result.h"
#include "engine/engine.h"

namespace papr::cluster {

struct ClusterNodeOptions {
  MembershipOptions membership;  // `shards`: the configured count (EnsureShardCount fixes it)
  std::chrono::milliseconds inbox_poll{250};
};

class ClusterNode {
 public:
  // Fixes or checks the cluster's shard count in `store`, which outlives the node.
  static Result<std::unique_ptr<ClusterNode>> Create(storage::Store* store,
                                                     ClusterNodeOptions options);
  ~ClusterNode();  // Stop()

  // The engine of this node commits with the fences of the shards it holds (fence_of) and
  // posts the rest to their inbox (shard_of). Before the engine is built.
  void ConfigureEngine(engine::EngineOptions* options) const;
  // Joins the cluster: `engine` (started, outliving the node) takes the shards as they come.
  void Start(engine::Engine* engine);
  // Lets every shard go at once (the others take them over) and leaves. Before the engine stops.
  void Stop();

  // The fence the search index is written with while this node holds shard 0 (the index
  // writer: one per cluster); nullopt while it does not (it follows the writer's catalog).
  std::optional<storage::Fence> SearchWriterFence() const { return table_.FenceOfShard(0); }
  const std::string& node_id() const { return options_.membership.node.node_id; }
  uint32_t shard_count() const { return table_.shard_count(); }
  size_t OwnedShards() const { return table_.OwnedCount(); }
  // The cluster as the database shows it now (cluster/cluster_view.h), as JSON.
  Result<std::string> ViewJson() const;
  // Prometheus text: shards owned, acquired and lost, inbox rows applied.
  std::string MetricsText() const;

 private:
  ClusterNode(storage::Store* store, ClusterNodeOptions options, uint32_t shards);
  void Acquired(uint32_t shard);
  void Dropped(uint32_t shard);
  void PollLoop();
  void FollowLoop();
  // Wakes the poller for the shards an inbox notice names (NOTIFY), reconnecting as needed.
  void ListenLoop();
  void ServeAcquired();  // resumes the shards acquired since the last round
  int64_t InboxRowsOwned() const;
  // Queues the shards that serve (`all`), or those notified, for the drainers.
  void DrainServed(bool all);
  void DrainShard(uint32_t shard);  // applies the requests posted to the shard's inbox

  // Threads applying posted starts: each start is a synced commit, so concurrent drains
  // share the store's group commits.
  static constexpr size_t kDrainerThreads = 8;

  storage::Store* store_;
  const ClusterNodeOptions options_;
  ShardTable table_;
  std::unique_ptr<Membership> membership_;
  engine::Engine* engine_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable closed_wake_;  // FollowLoop's: closed_ got ids, or stopping
  std::set<uint32_t> to_resume_;  // acquired, not yet resumed (retried until it is)
  std::set<uint32_t> serving_;    // resumed: its inbox is drained
  std::set<uint32_t> notified_;   // inbox notices since the last drain
  std::vector<std::string> closed_;  // executions other nodes announced closed
  bool stopping_ = false;
  int64_t acquired_total_ = 0;
  int64_t lost_total_ = 0;
  int64_t resume_failures_ = 0;
  std::thread poller_;
  std::thread listener_;
  std::thread follower_;
  std::unique_ptr<ShardDrainers> drainers_;
};

}  // namespace papr::cluster
