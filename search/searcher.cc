#include "search/searcher.h"

#include <algorithm>

#include "search/max_score.h"
#include "storage/text_analysis.h"

namespace papr::search {

std::vector<std::string> QueryTerms(std::string_view query) {
  std::vector<std::string> terms = storage::Tokenize(query);
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  if (terms.size() > kMaxQueryTerms) terms.resize(kMaxQueryTerms);
  return terms;
}

namespace {

struct CorpusStats {
  uint64_t docs = 0;
  uint64_t total_len = 0;
  std::vector<uint64_t> df;  // per query term
};

CorpusStats Collect(const std::vector<SegmentRef>& segments,
                    const std::vector<std::string>& terms) {
  CorpusStats stats;
  stats.df.assign(terms.size(), 0);
  for (const auto& ref : segments) {
    stats.docs += ref.segment->doc_count();
    stats.total_len += ref.segment->total_len();
    if (ref.deletions != nullptr) {
      stats.docs -= ref.deletions->count();
      stats.total_len -= ref.deletions->deleted_len();
    }
    for (size_t t = 0; t < terms.size(); ++t) {
      const TermInfo* info = ref.segment->Find(terms[t]);
      if (info == nullptr) continue;
      stats.df[t] += info->df;
      if (ref.deletions != nullptr) stats.df[t] -= ref.deletions->DeletedDf(terms[t]);
    }
  }
  return stats;
}

}  // namespace

Result<std::vector<ScoredDoc>> SearchSegments(const std::vector<SegmentRef>& segments,
                                              const std::vector<std::string>& terms, size_t k) {
  TopK top(k);
  CorpusStats stats = Collect(segments, terms);
  if (stats.docs == 0 || k == 0) return top.Take();
  // The largest segments first: their best docs raise the top-k threshold early, so the
  // smaller ones skip more.
  std::vector<const SegmentRef*> by_size;
  for (const auto& ref : segments) by_size.push_back(&ref);
  std::stable_sort(by_size.begin(), by_size.end(), [](const SegmentRef* a, const SegmentRef* b) {
    return a->segment->doc_count() > b->segment->doc_count();
  });
  for (const SegmentRef* ref_ptr : by_size) {
    const SegmentRef& ref = *ref_ptr;
    std::vector<WandTerm> wand;
    wand.reserve(terms.size());
    for (size_t t = 0; t < terms.size(); ++t) {
      const TermInfo* info = ref.segment->Find(terms[t]);
      if (info == nullptr) continue;
      wand.emplace_back(*info, TermScorer(stats.docs, stats.total_len, stats.df[t]));
    }
    if (wand.empty()) continue;
    RETURN_IF_ERROR(MaxScoreWindows(wand, *ref.segment, ref.deletions, &top));
  }
  return top.Take();
}

}  // namespace papr::search
