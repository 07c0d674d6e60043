#include "search/posting_codec.h"

#include <vector>

#include <gtest/gtest.h>

#include "common/byte_codec.h"

#include "search/deletions.h"
#include "search/posting_cursor.h"
#include "search/segment.h"
#include "search/segment_writer.h"

namespace papr::search {
namespace {

TEST(PostingCodecTest, BlockRoundTripsIncludingLargeGapsAndTfs) {
  std::vector<Posting> postings = {{5, 1}, {6, 300}, {1000, 2}, {70'000'000, 1}, {UINT32_MAX - 1, 9}};
  std::string bytes;
  EncodePostingBlock(postings.data(), postings.size(), 5, &bytes);
  std::vector<uint32_t> docs(postings.size());
  std::vector<uint32_t> tfs(postings.size());
  ASSERT_TRUE(DecodePostingBlock(bytes, postings.size(), 5, docs.data(), tfs.data()));
  for (size_t i = 0; i < postings.size(); ++i) {
    EXPECT_EQ(docs[i], postings[i].doc);
    EXPECT_EQ(tfs[i], postings[i].tf);
  }
  // Truncated or padded blocks are corrupt, not misread.
  EXPECT_FALSE(DecodePostingBlock(bytes.substr(0, bytes.size() - 1), postings.size(), 5,
                                  docs.data(), tfs.data()));
  EXPECT_FALSE(DecodePostingBlock(bytes + "x", postings.size(), 5, docs.data(), tfs.data()));
}

// Dense lists encode every delta and tf in one byte: those blocks take the single-byte path,
// which must decode exactly and reject what the general decoder rejects.
TEST(PostingCodecTest, SingleByteBlocksRoundTripAtTheirLimits) {
  std::vector<Posting> full;
  for (uint32_t i = 0; i < kPostingBlockSize; ++i) full.push_back({1000 + i * 127, i % 127 + 1});
  std::vector<Posting> first_doc = {{0, 1}};
  std::vector<Posting> last_doc = {{UINT32_MAX - 1, 127}};
  for (const auto& [postings, base] : {std::pair{full, 873u}, std::pair{first_doc, 0u},
                                       std::pair{last_doc, UINT32_MAX - 128}}) {
    std::string bytes;
    EncodePostingBlock(postings.data(), postings.size(), base, &bytes);
    ASSERT_EQ(bytes.size(), 2 * postings.size());  // the single-byte shape
    std::vector<uint32_t> docs(postings.size());
    std::vector<uint32_t> tfs(postings.size());
    ASSERT_TRUE(DecodePostingBlock(bytes, postings.size(), base, docs.data(), tfs.data()));
    for (size_t i = 0; i < postings.size(); ++i) {
      EXPECT_EQ(docs[i], postings[i].doc);
      EXPECT_EQ(tfs[i], postings[i].tf);
    }
  }
  uint32_t docs[2];
  uint32_t tfs[2];
  // A repeated doc, a tf of 0, a 2-byte varint, a doc past the last.
  EXPECT_FALSE(DecodePostingBlock(std::string("\x01\x00\x01\x01", 4), 2, 0, docs, tfs));
  EXPECT_FALSE(DecodePostingBlock(std::string("\x01\x01\x01\x00", 4), 2, 0, docs, tfs));
  EXPECT_FALSE(DecodePostingBlock(std::string("\x81\x01", 2), 1, 0, docs, tfs));
  EXPECT_FALSE(DecodePostingBlock(std::string("\x05\x01", 2), 1, UINT32_MAX - 3, docs, tfs));
  EXPECT_TRUE(DecodePostingBlock(std::string("\x05\x01", 2), 1, UINT32_MAX - 6, docs, tfs));
  EXPECT_EQ(docs[0], UINT32_MAX - 1);
}

// Document frequencies are exact at any size (no cap on postings per term), and the block
// metas decoded when the segment opens cover every block.
TEST(PostingCodecTest, LongListsKeepExactFrequenciesAndEveryBlock) {
  constexpr uint32_t kDocs = 300'001;
  SegmentWriter writer;
  for (uint32_t d = 0; d < kDocs; ++d) writer.AddDoc("d" + std::to_string(d), d % 50 + 1);
  std::vector<Posting> all;
  for (uint32_t d = 0; d < kDocs; ++d) all.push_back({d, d % 300 + 1});  // tfs past one byte too
  writer.AddTerm("t", all);
  auto segment = Segment::Open(writer.Finish());
  ASSERT_TRUE(segment.ok()) << segment.status().ToString();
  const TermInfo* info = (*segment)->Find("t");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->df, kDocs);
  ASSERT_EQ(info->block_count, (kDocs + kPostingBlockSize - 1) / kPostingBlockSize);
  EXPECT_EQ(info->blocks[info->block_count - 1].last_doc, kDocs - 1);
  PostingCursor cursor(*info);
  uint32_t n = 0;
  for (; cursor.doc() != PostingCursor::kEnd; cursor.Next(), ++n) {
    ASSERT_EQ(cursor.doc(), n);
    ASSERT_EQ(cursor.tf(), n % 300 + 1);
  }
  EXPECT_EQ(n, kDocs);
  EXPECT_FALSE(cursor.corrupt());
}

TEST(PostingCodecTest, SegmentRoundTripsDocsTermsAndBlockMaxima) {
  SegmentWriter writer;
  for (uint32_t d = 0; d < 1000; ++d) {
    writer.AddDoc("id" + std::to_string(d), d % 17 + 1);
  }
  std::vector<Posting> every_third;
  for (uint32_t d = 0; d < 1000; d += 3) every_third.push_back({d, d % 5 + 1});
  writer.AddTerm("alpha", {{7, 2}});
  writer.AddTerm("beta", every_third);
  auto segment = Segment::Open(writer.Finish());
  ASSERT_TRUE(segment.ok()) << segment.status().ToString();
  const Segment& s = **segment;
  EXPECT_EQ(s.doc_count(), 1000u);
  EXPECT_EQ(s.memory_id(42), "id42");
  EXPECT_EQ(s.doc_len(42), 42u % 17 + 1);
  EXPECT_EQ(*s.FindDoc("id999"), 999u);
  EXPECT_FALSE(s.FindDoc("id1000").has_value());
  EXPECT_EQ(s.Find("gamma"), nullptr);
  const TermInfo* beta = s.Find("beta");
  ASSERT_NE(beta, nullptr);
  EXPECT_EQ(beta->df, every_third.size());
  EXPECT_EQ(beta->max_tf, 5u);
  PostingCursor cursor(*beta);
  EXPECT_EQ(cursor.block_count(), (every_third.size() + 127) / 128);
  for (size_t b = 0; b < cursor.block_count(); ++b) {
    uint32_t max_tf = 0;
    uint32_t min_len = UINT32_MAX;
    for (size_t i = b * 128; i < std::min(every_third.size(), (b + 1) * 128); ++i) {
      max_tf = std::max(max_tf, every_third[i].tf);
      min_len = std::min(min_len, s.doc_len(every_third[i].doc));
    }
    EXPECT_EQ(cursor.block(b).max_tf, max_tf);
    EXPECT_EQ(cursor.block(b).min_len, min_len);
  }
  std::vector<Posting> read;
  for (; cursor.doc() != PostingCursor::kEnd; cursor.Next()) read.push_back({cursor.doc(), cursor.tf()});
  ASSERT_EQ(read.size(), every_third.size());
  for (size_t i = 0; i < read.size(); ++i) {
    EXPECT_EQ(read[i].doc, every_third[i].doc);
    EXPECT_EQ(read[i].tf, every_third[i].tf);
  }
  EXPECT_FALSE(cursor.corrupt());
}

TEST(PostingCodecTest, SeekSkipsToTheFirstDocAtOrAfterTheTarget) {
  SegmentWriter writer;
  for (uint32_t d = 0; d < 5000; ++d) writer.AddDoc("d" + std::to_string(d), 3);
  std::vector<Posting> evens;
  for (uint32_t d = 0; d < 5000; d += 2) evens.push_back({d, 1});
  writer.AddTerm("t", evens);
  auto segment = Segment::Open(writer.Finish());
  ASSERT_TRUE(segment.ok());
  PostingCursor cursor(*(*segment)->Find("t"));
  cursor.SeekGE(3001);
  EXPECT_EQ(cursor.doc(), 3002u);
  cursor.SeekGE(3002);  // never backwards, and a no-op at the target
  EXPECT_EQ(cursor.doc(), 3002u);
  EXPECT_EQ(cursor.BlockFor(4998), cursor.block_count() - 1);
  EXPECT_EQ(cursor.BlockFor(4999), cursor.block_count());  // past the last doc
  cursor.SeekGE(4999);
  EXPECT_EQ(cursor.doc(), PostingCursor::kEnd);
}

TEST(PostingCodecTest, MalformedSegmentsAreCorruption) {
  SegmentWriter writer;
  writer.AddDoc("a", 1);
  writer.AddTerm("x", {{0, 1}});
  std::string bytes = writer.Finish();
  EXPECT_TRUE(Segment::Open("").status().code() == StatusCode::kCorruption);
  EXPECT_TRUE(Segment::Open(bytes.substr(0, bytes.size() - 1)).status().code() == StatusCode::kCorruption);
  EXPECT_TRUE(Segment::Open(bytes + "z").status().code() == StatusCode::kCorruption);
  EXPECT_TRUE(Segment::Open("XSG1" + bytes.substr(4)).status().code() == StatusCode::kCorruption);
}

// A one-document segment built by hand: term "x" with one block whose meta claims
// `impact_count` impacts, and a term entry claiming document frequency `df`.
std::string HandBuiltSegment(uint64_t impact_count, uint64_t df = 1) {
  std::string postings;
  PutVarint64(&postings, 0);  // last_doc
  PutVarint64(&postings, impact_count);
  for (uint64_t i = 0; i < impact_count; ++i) postings.append("\x01\x01");  // (tf 1, len 1)
  PutVarint64(&postings, 2);  // data bytes
  postings.append(std::string("\x00\x01", 2));  // doc 0, tf 1
  std::string out = "PSG1";
  PutVarint64(&out, 1);  // docs
  PutVarint64(&out, 1);  // total len
  PutLengthPrefixed(&out, "a");
  PutVarint64(&out, 1);  // its len
  PutVarint64(&out, 1);  // terms
  PutLengthPrefixed(&out, "x");
  uint64_t block_count = (df + kPostingBlockSize - 1) / kPostingBlockSize;
  for (uint64_t v : {df, uint64_t{1}, uint64_t{1}, block_count}) PutVarint64(&out, v);
  PutVarint64(&out, postings.size());
  return out + postings;
}

// Block metas are decoded when the segment opens, so a malformed one makes the segment
// corrupt there (and the index rebuilds it) instead of failing every query that reads it.
TEST(PostingCodecTest, MalformedBlockMetaIsCorruptionAtOpen) {
  auto good = Segment::Open(HandBuiltSegment(1));
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_TRUE(Segment::Open(HandBuiltSegment(0)).status().code() == StatusCode::kCorruption);
}

// A corrupt df of ~4 billion (33.5 million blocks) over a few bytes of postings is refused by
// its size before any per-block state is allocated.
TEST(PostingCodecTest, BlockCountPastThePostingsBytesIsCorruptionBeforeReadingMetas) {
  auto opened = Segment::Open(HandBuiltSegment(1, uint64_t{UINT32_MAX}));
  ASSERT_EQ(opened.status().code(), StatusCode::kCorruption);
  EXPECT_NE(opened.status().message().find("block count"), std::string::npos)
      << opened.status().ToString();
}

TEST(PostingCodecTest, TombstoneRoundTrips) {
  Tombstone t{12, {"apple", "kiwi"}};
  Tombstone back;
  ASSERT_TRUE(DecodeTombstone(EncodeTombstone(t), &back));
  EXPECT_EQ(back.doc_len, 12u);
  EXPECT_EQ(back.terms, t.terms);
  EXPECT_FALSE(DecodeTombstone(EncodeTombstone(t) + "x", &back));
}

}  // namespace
}  // namespace papr::search
