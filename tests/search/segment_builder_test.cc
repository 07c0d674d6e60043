// BuildSegment's inversion: postings per term in doc order with tfs, terms in byte order.

#include "search/segment_builder.h"

#include <gtest/gtest.h>

#include "search/posting_cursor.h"
#include "search/segment.h"

namespace papr::search {
namespace {

std::vector<std::pair<uint32_t, uint32_t>> Postings(const Segment& segment, std::string_view term) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  const TermInfo* info = segment.Find(term);
  if (info == nullptr) return out;
  for (PostingCursor c(*info); c.doc() != PostingCursor::kEnd; c.Next()) {
    out.emplace_back(c.doc(), c.tf());
  }
  return out;
}

TEST(SegmentBuilderTest, CountsRepeatedTermsOncePerDocWithTheirTf) {
  auto segment = Segment::Open(BuildSegment({{"a", "river river stone river"},
                                             {"b", "stone"},
                                             {"c", "River STONE stone"}}));
  ASSERT_TRUE(segment.ok()) << segment.status().ToString();
  using P = std::vector<std::pair<uint32_t, uint32_t>>;
  EXPECT_EQ(Postings(**segment, "river"), (P{{0, 3}, {2, 1}}));
  EXPECT_EQ(Postings(**segment, "stone"), (P{{0, 1}, {1, 1}, {2, 2}}));
  EXPECT_EQ((*segment)->doc_len(0), 4u);
  EXPECT_EQ((*segment)->Find("river")->df, 2u);
}

TEST(SegmentBuilderTest, TermsAreInByteOrderNonAsciiLast) {
  auto segment = Segment::Open(BuildSegment({{"a", "zeta \xC3\xA9t\xC3\xA9 alpha 42"}}));
  ASSERT_TRUE(segment.ok()) << segment.status().ToString();  // Open rejects unsorted terms
  std::vector<std::string_view> terms;
  for (const auto& t : (*segment)->terms()) terms.push_back(t.term);
  EXPECT_EQ(terms, (std::vector<std::string_view>{"42", "alpha", "zeta", "\xC3\xA9t\xC3\xA9"}));
}

TEST(SegmentBuilderTest, BlockImpactsAreTheParetoFrontierOfTfAndLength) {
  // "x" with (tf, doc len): (1, 2) (2, 4) (2, 3) (3, 9) (1, 1) (3, 12). Frontier, tf
  // descending and len ascending: (3, 9) (2, 3) (1, 1); (2, 4), (3, 12), (1, 2) are dominated.
  auto segment = Segment::Open(BuildSegment({{"a", "x y"},
                                             {"b", "x x y y"},
                                             {"c", "x x y"},
                                             {"d", "x x x y y y y y y"},
                                             {"e", "x"},
                                             {"f", "x x x y y y y y y y y y"}}));
  ASSERT_TRUE(segment.ok()) << segment.status().ToString();
  PostingCursor cursor(*(*segment)->Find("x"));
  ASSERT_EQ(cursor.block_count(), 1u);
  std::vector<std::pair<uint32_t, uint32_t>> impacts;
  for (uint32_t i = 0; i < cursor.block(0).impact_count; ++i) {
    impacts.emplace_back(cursor.impacts(0)[i].tf, cursor.impacts(0)[i].doc_len);
  }
  EXPECT_EQ(impacts, (std::vector<std::pair<uint32_t, uint32_t>>{{3, 9}, {2, 3}, {1, 1}}));
}

}  // namespace
}  // namespace papr::search
