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

}  // namespace
}  // namespace papr::search
