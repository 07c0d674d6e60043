// Top-k retrieval over segments against the brute-force oracle.

#include "search/searcher.h"

#include <gtest/gtest.h>

#include "search/block_max_wand.h"
#include "search/segment_builder.h"
#include "search/segment_merger.h"
#include "search/segment_writer.h"
#include "tests/search/brute_force_bm25.h"

namespace papr::search {
namespace {

using testing::BruteForceBm25;
using testing::CorpusDoc;
using testing::GeneratedCorpus;
using testing::GeneratedQueries;

std::shared_ptr<const Segment> Build(const std::vector<CorpusDoc>& docs) {
  std::vector<SourceDoc> sources;
  for (const auto& d : docs) sources.push_back({d.memory_id, d.content});
  auto segment = Segment::Open(BuildSegment(sources));
  EXPECT_TRUE(segment.ok()) << segment.status().ToString();
  return *segment;
}

// Splits the corpus into `parts` segments.
std::vector<std::shared_ptr<const Segment>> BuildParts(const std::vector<CorpusDoc>& corpus,
                                                       size_t parts) {
  std::vector<std::shared_ptr<const Segment>> segments;
  size_t per = (corpus.size() + parts - 1) / parts;
  for (size_t start = 0; start < corpus.size(); start += per) {
    size_t end = std::min(corpus.size(), start + per);
    segments.push_back(Build({corpus.begin() + start, corpus.begin() + end}));
  }
  return segments;
}

std::vector<SegmentRef> Refs(const std::vector<std::shared_ptr<const Segment>>& segments,
                             const std::vector<const Deletions*>& deletions = {}) {
  std::vector<SegmentRef> refs;
  for (size_t i = 0; i < segments.size(); ++i) {
    refs.push_back({segments[i].get(), i < deletions.size() ? deletions[i] : nullptr});
  }
  return refs;
}

void ExpectSameAsOracle(const std::vector<SegmentRef>& refs, const testing::BruteForceIndex& live,
                        const std::string& query, size_t k = 10) {
  auto terms = QueryTerms(query);
  auto got = SearchSegments(refs, terms, k);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  auto want = live.Search(terms, k);
  ASSERT_EQ(got->size(), want.size()) << query;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ((*got)[i].memory_id, want[i].memory_id) << query << " rank " << i;
    EXPECT_DOUBLE_EQ((*got)[i].score, want[i].score) << query << " rank " << i;
  }
}

TEST(SearcherTest, WandTop10EqualsBruteForceFor100Queries) {
  auto corpus = GeneratedCorpus(20'000, 1);
  auto segments = BuildParts(corpus, 3);
  testing::BruteForceIndex oracle(corpus);
  for (const auto& q : GeneratedQueries(100, 2)) ExpectSameAsOracle(Refs(segments), oracle, q);
}

TEST(SearcherTest, TiesAreBrokenByMemoryId) {
  std::vector<CorpusDoc> corpus;
  for (int i = 0; i < 300; ++i) {
    char id[16];
    std::snprintf(id, sizeof(id), "m%03d", 299 - i);  // ids descending in doc order
    corpus.push_back({id, "same words here"});
  }
  auto segments = BuildParts(corpus, 2);
  auto got = SearchSegments(Refs(segments), QueryTerms("words"), 5);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ((*got)[i].memory_id, "m00" + std::to_string(i));
}

TEST(SearcherTest, BlockMaxWandScoresAFractionOfACommonTermsPostings) {
  auto corpus = GeneratedCorpus(20'000, 3);
  auto segment = Build(corpus);
  const TermInfo* common = segment->Find("w1");
  ASSERT_NE(common, nullptr);
  ASSERT_GT(common->df, 10'000u);  // in most docs: its list spans ~100 blocks
  const TermInfo* rare = nullptr;
  for (const auto& t : segment->terms()) {
    if (t.df >= 20 && t.df <= 100) rare = &t;
  }
  ASSERT_NE(rare, nullptr);
  std::vector<WandTerm> terms;
  for (const TermInfo* info : {common, rare}) {
    terms.emplace_back(*info, TermScorer(segment->doc_count(), segment->total_len(), info->df));
  }
  TopK top(10);
  ASSERT_TRUE(BlockMaxWand(terms, *segment, nullptr, &top).ok());
  // Exhaustive OR would score every doc holding either term.
  EXPECT_LT(top.offered(), common->df / 10) << "block-max WAND scored too many docs";
  EXPECT_EQ(top.Take().size(), 10u);
}

TEST(SearcherTest, DeletedDocsVanishAndStatisticsCountOnlyLiveDocs) {
  auto corpus = GeneratedCorpus(3'000, 4);
  auto segments = BuildParts(corpus, 2);
  std::vector<Deletions> deletions;
  for (const auto& s : segments) deletions.emplace_back(s->doc_count());
  std::vector<CorpusDoc> live;
  for (size_t i = 0; i < corpus.size(); ++i) {
    size_t seg = i < segments[0]->doc_count() ? 0 : 1;
    uint32_t doc = static_cast<uint32_t>(seg == 0 ? i : i - segments[0]->doc_count());
    if (i % 3 != 0) {
      live.push_back(corpus[i]);
      continue;
    }
    Tombstone t;
    t.terms = QueryTerms(corpus[i].content);
    t.doc_len = static_cast<uint32_t>(storage::Tokenize(corpus[i].content).size());
    deletions[seg].Add(doc, EncodeTombstone(t), t);
  }
  auto refs = Refs(segments, {&deletions[0], &deletions[1]});
  testing::BruteForceIndex oracle(live);
  for (const auto& q : GeneratedQueries(50, 5)) ExpectSameAsOracle(refs, oracle, q);
}

TEST(SearcherTest, MergedSegmentsAnswerExactlyAsTheirInputs) {
  auto corpus = GeneratedCorpus(6'000, 6);
  auto segments = BuildParts(corpus, 10);
  std::vector<MergeInput> inputs;
  for (const auto& s : segments) inputs.push_back({s.get(), nullptr});
  auto merged = MergeSegments(inputs);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  auto one = Segment::Open(merged->bytes);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)->doc_count(), corpus.size());
  for (const auto& q : GeneratedQueries(100, 7)) {
    auto terms = QueryTerms(q);
    auto before = SearchSegments(Refs(segments), terms, 10);
    auto after = SearchSegments(Refs({*one}), terms, 10);
    ASSERT_TRUE(before.ok() && after.ok());
    ASSERT_EQ(before->size(), after->size()) << q;
    for (size_t i = 0; i < before->size(); ++i) {
      EXPECT_EQ((*before)[i].memory_id, (*after)[i].memory_id) << q;
      EXPECT_DOUBLE_EQ((*before)[i].score, (*after)[i].score) << q;
    }
  }
}

TEST(SearcherTest, MergeDropsDeletedDocs) {
  auto corpus = GeneratedCorpus(1'000, 8);
  auto segment = Build(corpus);
  Deletions deletions(segment->doc_count());
  Tombstone t{1, {}};
  for (uint32_t d = 0; d < 1000; d += 2) deletions.Add(d, EncodeTombstone(t), t);
  auto merged = MergeSegments({{segment.get(), &deletions}});
  ASSERT_TRUE(merged.ok());
  auto one = Segment::Open(merged->bytes);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)->doc_count(), 500u);
  EXPECT_EQ(merged->doc_maps[0][0], kDroppedDoc);
  EXPECT_EQ((*one)->memory_id(merged->doc_maps[0][1]), corpus[1].memory_id);
  std::vector<CorpusDoc> live;
  for (size_t i = 1; i < corpus.size(); i += 2) live.push_back(corpus[i]);
  testing::BruteForceIndex oracle(live);
  for (const auto& q : GeneratedQueries(30, 9)) ExpectSameAsOracle(Refs({*one}), oracle, q);
}

TEST(SearcherTest, DocumentFrequencyIsExactPast200000Postings) {
  // Two segments of 150,000 docs each hold "common": df 300,000 (the old per-posting store
  // stopped counting at 200,000).
  std::vector<std::shared_ptr<const Segment>> segments;
  for (int s = 0; s < 2; ++s) {
    SegmentWriter writer;
    std::vector<Posting> postings;
    for (uint32_t d = 0; d < 150'000; ++d) {
      writer.AddDoc("s" + std::to_string(s) + "-" + std::to_string(d), 2);
      postings.push_back({d, 1});
    }
    writer.AddTerm("common", postings);
    writer.AddTerm("rare", {{0, 1}});
    auto seg = Segment::Open(writer.Finish());
    ASSERT_TRUE(seg.ok());
    segments.push_back(*seg);
  }
  auto got = SearchSegments(Refs(segments), {"common"}, 1);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_DOUBLE_EQ((*got)[0].score, TermScorer(300'000, 600'000, 300'000).Score(1, 2));
  EXPECT_NE((*got)[0].score, TermScorer(300'000, 600'000, 200'000).Score(1, 2));
}

}  // namespace
}  // namespace papr::search
