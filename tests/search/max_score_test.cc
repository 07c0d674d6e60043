// Window-at-a-time MaxScore against the brute-force oracle, on the corpus it is built for:
// a small vocabulary, every term in most docs (as the load driver's memories).

#include "search/max_score.h"

#include <gtest/gtest.h>

#include "search/searcher.h"
#include "search/segment_builder.h"
#include "tests/search/brute_force_bm25.h"

namespace papr::search {
namespace {

using testing::BruteForceIndex;
using testing::CorpusDoc;

// `docs` docs of 30-90 words from a 20-word vocabulary: every list spans most docs.
std::vector<CorpusDoc> DenseCorpus(size_t docs, uint64_t seed) {
  std::vector<CorpusDoc> corpus;
  uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
  auto next = [&x] {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return x;
  };
  for (size_t d = 0; d < docs; ++d) {
    std::string text;
    for (size_t w = 0, len = 30 + next() % 60; w < len; ++w) {
      text += "v" + std::to_string(next() % 20) + " ";
    }
    char id[32];
    std::snprintf(id, sizeof(id), "dense-%08zu", d);
    corpus.push_back({id, text});
  }
  return corpus;
}

std::shared_ptr<const Segment> Build(const std::vector<CorpusDoc>& docs) {
  std::vector<SourceDoc> sources;
  for (const auto& d : docs) sources.push_back({d.memory_id, d.content});
  auto segment = Segment::Open(BuildSegment(sources));
  EXPECT_TRUE(segment.ok()) << segment.status().ToString();
  return *segment;
}

std::vector<WandTerm> TermsOf(const Segment& segment, const std::vector<std::string>& words,
                              uint64_t docs, uint64_t total_len) {
  std::vector<WandTerm> terms;
  for (const auto& w : words) {
    const TermInfo* info = segment.Find(w);
    if (info != nullptr) terms.emplace_back(*info, TermScorer(docs, total_len, info->df));
  }
  return terms;
}

void ExpectSame(const std::vector<ScoredDoc>& got, const std::vector<testing::OracleHit>& want,
                const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].memory_id, want[i].memory_id) << what << " rank " << i;
    EXPECT_DOUBLE_EQ(got[i].score, want[i].score) << what << " rank " << i;
  }
}

TEST(MaxScoreTest, EqualsBruteForceOnADenseCorpusForEveryK) {
  auto corpus = DenseCorpus(6'000, 1);
  auto segment = Build(corpus);
  BruteForceIndex oracle(corpus);
  for (size_t k : {1, 10, 57}) {
    for (int q = 0; q < 40; ++q) {
      std::vector<std::string> words;
      for (int w = 0; w <= q % 3; ++w) words.push_back("v" + std::to_string((q * 7 + w * 3) % 20));
      std::sort(words.begin(), words.end());
      words.erase(std::unique(words.begin(), words.end()), words.end());
      auto terms = TermsOf(*segment, words, segment->doc_count(), segment->total_len());
      TopK top(k);
      ASSERT_TRUE(MaxScoreWindows(terms, *segment, nullptr, &top).ok());
      ExpectSame(top.Take(), oracle.Search(words, k), "k=" + std::to_string(k) + " q=" + words[0]);
    }
  }
}

TEST(MaxScoreTest, SkipsDeletedDocs) {
  auto corpus = DenseCorpus(3'000, 2);
  auto segment = Build(corpus);
  Deletions deletions(segment->doc_count());
  std::vector<CorpusDoc> live;
  uint64_t live_len = 0;
  for (uint32_t d = 0; d < corpus.size(); ++d) {
    Tombstone t;
    t.terms = QueryTerms(corpus[d].content);
    t.doc_len = segment->doc_len(d);
    if (d % 4 == 0) {
      deletions.Add(d, EncodeTombstone(t), t);
    } else {
      live.push_back(corpus[d]);
      live_len += t.doc_len;
    }
  }
  BruteForceIndex oracle(live);
  std::vector<std::string> words = {"v3", "v8"};
  std::vector<WandTerm> terms;
  for (const auto& w : words) {
    const TermInfo* info = segment->Find(w);
    ASSERT_NE(info, nullptr);
    uint64_t df = info->df - deletions.DeletedDf(w);
    terms.emplace_back(*info, TermScorer(live.size(), live_len, df));
  }
  TopK top(10);
  ASSERT_TRUE(MaxScoreWindows(terms, *segment, &deletions, &top).ok());
  ExpectSame(top.Take(), oracle.Search(words, 10), "v3 v8 with deletions");
}

TEST(MaxScoreTest, ScoresOnlyTheRareTermsDocsWhenACommonTermCannotEnterAlone) {
  auto corpus = testing::GeneratedCorpus(20'000, 3);
  auto segment = Build(corpus);
  const TermInfo* common = segment->Find("w1");
  ASSERT_NE(common, nullptr);
  ASSERT_GT(common->df, 10'000u);
  const TermInfo* rare = nullptr;
  for (const auto& t : segment->terms()) {
    if (t.df >= 20 && t.df <= 100) rare = &t;
  }
  ASSERT_NE(rare, nullptr);
  auto terms = TermsOf(*segment, {std::string(common->term), std::string(rare->term)},
                       segment->doc_count(), segment->total_len());
  TopK top(10);
  ASSERT_TRUE(MaxScoreWindows(terms, *segment, nullptr, &top).ok());
  EXPECT_LT(top.offered(), common->df / 10) << "MaxScore scored too many docs";
  EXPECT_EQ(top.Take().size(), 10u);
}

TEST(MaxScoreTest, OffersAFractionOfTheDocsOfThreeDenseTerms) {
  auto corpus = DenseCorpus(20'000, 4);
  auto segment = Build(corpus);
  auto terms = TermsOf(*segment, {"v1", "v2", "v5"}, segment->doc_count(), segment->total_len());
  ASSERT_EQ(terms.size(), 3u);
  ASSERT_GT(terms[0].cursor.block_count(), 100u);
  TopK top(10);
  ASSERT_TRUE(MaxScoreWindows(terms, *segment, nullptr, &top).ok());
  // Exhaustive OR would offer every doc (all of them hold one of the three).
  EXPECT_LT(top.offered(), segment->doc_count() / 20) << "bounds pruned too few docs";
}

TEST(MaxScoreTest, NormThenScoreIsScoreBitForBit) {
  TermScorer scorer(12'345, 678'901, 4'321);
  for (uint32_t tf : {1u, 2u, 7u, 300u}) {
    for (uint32_t len : {1u, 30u, 55u, 10'000u}) {
      EXPECT_EQ(scorer.ScoreWithNorm(tf, scorer.Norm(len)), scorer.Score(tf, len));
    }
  }
}

}  // namespace
}  // namespace papr::search
