#include "search/merge_policy.h"

#include <algorithm>
#include <map>

namespace papr::search {

uint32_t TieredMergePolicy::TierOf(uint32_t live_docs) const {
  uint32_t tier = 0;
  for (uint64_t size = uint64_t{options_.floor_docs} * options_.segments_per_tier;
       live_docs >= size; size *= options_.segments_per_tier) {
    ++tier;
  }
  return tier;
}

std::vector<uint64_t> TieredMergePolicy::FindMerge(
    const std::vector<SegmentStats>& segments) const {
  std::map<uint32_t, std::vector<const SegmentStats*>> tiers;
  for (const auto& s : segments) tiers[TierOf(s.docs - s.deleted)].push_back(&s);
  for (auto& [tier, members] : tiers) {
    if (members.size() < options_.segments_per_tier) continue;
    // The oldest (lowest id) first: merged docs stay in arrival order.
    std::sort(members.begin(), members.end(),
              [](const SegmentStats* a, const SegmentStats* b) { return a->id < b->id; });
    std::vector<uint64_t> ids;
    for (size_t i = 0; i < options_.segments_per_tier; ++i) ids.push_back(members[i]->id);
    return ids;
  }
  for (const auto& s : segments) {
    if (s.docs > 0 && s.deleted > options_.max_deleted_fraction * s.docs) return {s.id};
  }
  return {};
}

}  // namespace papr::search
