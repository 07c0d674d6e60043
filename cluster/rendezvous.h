#pragma once

// Shard assignment by rendezvous (highest-random-weight) hashing over the live nodes: each
// shard goes to the node with the highest weight(node, shard). Every node computes the same
// answer from the same list, with no coordinator, and a node joining or leaving moves only
// the shards it gains or had (about 1/N of them), not a reshuffle.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace papr::cluster {

uint64_t RendezvousWeight(std::string_view node_id, uint32_t shard);

// The index in `node_ids` (non-empty, distinct) of shard `shard`'s owner. Ties (of equal
// weights) go to the smaller node_id, so the answer does not depend on the list's order.
size_t RendezvousOwner(uint32_t shard, const std::vector<std::string>& node_ids);

}  // namespace papr::cluster
