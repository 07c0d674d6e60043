#pragma once

#include <cstdint>
#include <vector>

namespace papr::search {

//! What a merge policy knows of a segment.
struct SegmentStats {
  uint64_t id = 0;
  uint32_t docs = 0;     // all docs, deleted included
  uint32_t deleted = 0;  // docs with a tombstone
};

//! Chooses which segments of one scope to merge next; separate from the writer (as Lucene's
//! and Tantivy's MergePolicy) so policies can be swapped and tested alone.
class MergePolicy {
 public:
  virtual ~MergePolicy() = default;
  // The ids of the segments to merge into one, or empty when none should be.
  virtual std::vector<uint64_t> FindMerge(const std::vector<SegmentStats>& segments) const = 0;
};

//! Log-structured tiers: a segment of n live docs is in tier floor(log_f(n / floor_docs)) (f =
//! segments_per_tier); when a tier holds segments_per_tier segments they merge into one of
//! the next tier, so each doc is rewritten O(log n) times and a scope has O(f log n)
//! segments. A segment with more than max_deleted_fraction tombstones is merged on its own
//! to drop them.
class TieredMergePolicy final : public MergePolicy {
 public:
  struct Options {
    // Segments per tier before they merge. Default: 10.
    uint32_t segments_per_tier = 10;
    // Segments below this many live docs share the lowest tier. Default: 1,000.
    uint32_t floor_docs = 1000;
    // A segment with more deleted docs than this fraction is rewritten alone. Default: 0.3.
    double max_deleted_fraction = 0.3;
  };
  TieredMergePolicy() : TieredMergePolicy(Options()) {}
  explicit TieredMergePolicy(Options options) : options_(options) {}
  std::vector<uint64_t> FindMerge(const std::vector<SegmentStats>& segments) const override;

 private:
  uint32_t TierOf(uint32_t live_docs) const;
  Options options_;
};

}  // namespace papr::search
