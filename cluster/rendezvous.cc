#include "cluster/rendezvous.h"

#include "cluster/shard_hash.h"

namespace papr::cluster {

uint64_t RendezvousWeight(std::string_view node_id, uint32_t shard) {
  std::string bytes(node_id);
  bytes.push_back('\0');
  for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>(shard >> shift));
  return StableHash(bytes);
}

size_t RendezvousOwner(uint32_t shard, const std::vector<std::string>& node_ids) {
  size_t best = 0;
  uint64_t best_weight = 0;
  for (size_t i = 0; i < node_ids.size(); ++i) {
    uint64_t weight = RendezvousWeight(node_ids[i], shard);
    if (i == 0 || weight > best_weight ||
        (weight == best_weight && node_ids[i] < node_ids[best])) {
      best = i;
      best_weight = weight;
    }
  }
  return best;
}

}  // namespace papr::cluster
