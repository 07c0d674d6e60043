#pragma once

// The shards this node owns, at which fencing epoch: what the engine's commits are fenced
// with (EngineOptions::fence_of = FenceOf), kept in step with Membership (a ShardOwner). The
// hooks move the node's work along: `resume` once a lease is in (replay the shard's open
// executions), `drop` once it is out (forget them). The table changes before the hooks run, so
// a resumed execution commits with the new lease and a dropped one cannot commit at all.

#include <cstdint>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <string_view>
#include <vector>

#include "cluster/membership.h"
#include "storage/db.h"

namespace papr::cluster {

class ShardTable final : public ShardOwner {
 public:
  struct Hooks {
    std::function<void(uint32_t shard)> resume;
    std::function<void(uint32_t shard)> drop;
  };

  explicit ShardTable(uint32_t shard_count);
  // Before the membership starts (the hooks reach the engine, which is built with FenceOf).
  void SetHooks(Hooks hooks) { hooks_ = std::move(hooks); }

  // The fence of `workflow_id`'s shard while this node owns it; nullopt otherwise.
  std::optional<storage::Fence> FenceOf(std::string_view workflow_id) const;
  std::optional<storage::Fence> FenceOfShard(uint32_t shard) const;
  bool Owns(uint32_t shard) const;
  size_t OwnedCount() const;
  uint32_t shard_count() const { return static_cast<uint32_t>(range_ids_.size()); }

  void ShardAcquired(const storage::ShardLease& lease) override;
  void ShardDropped(uint32_t shard, bool handover) override;

 private:
  mutable std::shared_mutex mu_;
  std::vector<std::optional<int64_t>> range_ids_;  // by shard: the lease's, while owned
  Hooks hooks_;
};

}  // namespace papr::cluster
