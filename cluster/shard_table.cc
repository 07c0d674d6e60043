#include "cluster/shard_table.h"

#include <mutex>

#include "cluster/shard_hash.h"

namespace papr::cluster {

ShardTable::ShardTable(uint32_t shard_count) : range_ids_(shard_count) {}

std::optional<storage::Fence> ShardTable::FenceOf(std::string_view workflow_id) const {
  return FenceOfShard(ShardOf(workflow_id, shard_count()));
}

std::optional<storage::Fence> ShardTable::FenceOfShard(uint32_t shard) const {
  std::shared_lock lock(mu_);
  if (shard >= range_ids_.size() || !range_ids_[shard].has_value()) return std::nullopt;
  return storage::Fence{shard, *range_ids_[shard]};
}

bool ShardTable::Owns(uint32_t shard) const {
  std::shared_lock lock(mu_);
  return shard < range_ids_.size() && range_ids_[shard].has_value();
}

size_t ShardTable::OwnedCount() const {
  std::shared_lock lock(mu_);
  size_t owned = 0;
  for (const auto& range_id : range_ids_) owned += range_id.has_value() ? 1 : 0;
  return owned;
}

void ShardTable::ShardAcquired(const storage::ShardLease& lease) {
  if (lease.shard >= range_ids_.size()) return;
  {
    std::unique_lock lock(mu_);
    range_ids_[lease.shard] = lease.range_id;
  }
  if (hooks_.resume) hooks_.resume(lease.shard);
}

// A handover needs no wait for commits in flight: the next owner's range_id bump waits for
// every fenced commit still open, and replays after them.
void ShardTable::ShardDropped(uint32_t shard, bool /*handover*/) {
  if (shard >= range_ids_.size()) return;
  {
    std::unique_lock lock(mu_);
    range_ids_[shard].reset();
  }
  if (hooks_.drop) hooks_.drop(shard);
}

}  // namespace papr::cluster
