#include "search/merge_policy.h"

#include <gtest/gtest.h>

namespace papr::search {
namespace {

TEST(TieredMergePolicyTest, MergesAFullTierOldestFirstAndNothingElse) {
  TieredMergePolicy policy;  // 10 per tier, floor 1,000
  std::vector<SegmentStats> segments;
  for (uint64_t id = 1; id <= 9; ++id) segments.push_back({id, 500, 0});
  segments.push_back({100, 50'000, 0});  // another tier
  EXPECT_TRUE(policy.FindMerge(segments).empty());
  segments.push_back({10, 700, 0});
  segments.push_back({11, 900, 0});
  std::vector<uint64_t> want = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_EQ(policy.FindMerge(segments), want);
}

TEST(TieredMergePolicyTest, TiersGrowByTheMergeFactor) {
  TieredMergePolicy policy;
  std::vector<SegmentStats> segments;
  for (uint64_t id = 1; id <= 10; ++id) segments.push_back({id, 10'000 + 1'000 * id, 0});
  EXPECT_EQ(policy.FindMerge(segments).size(), 10u);  // ten of tier 1 -> one of tier 2
  segments.resize(9);
  segments.push_back({10, 100'000, 0});  // tier 2
  EXPECT_TRUE(policy.FindMerge(segments).empty());
}

TEST(TieredMergePolicyTest, ExpungesASegmentWithManyDeletes) {
  TieredMergePolicy policy;
  EXPECT_TRUE(policy.FindMerge({{1, 1000, 300}}).empty());
  EXPECT_EQ(policy.FindMerge({{1, 1000, 301}}), std::vector<uint64_t>{1});
}

}  // namespace
}  // namespace papr::search
