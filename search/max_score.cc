#include "search/max_score.h"

#include <algorithm>
#include <limits>

namespace papr::search {
namespace {

constexpr double kDead = -std::numeric_limits<double>::infinity();

//! What the blocks of one term that may hold docs of a window say about it.
struct TermBound {
  double score = 0;  // the best block maximum; 0 when the list has no docs left
  uint32_t max_tf = 0;
  uint32_t min_len = UINT32_MAX;
};

// Bounds of `term` over the blocks that may hold docs of [base, end). Moves nothing.
TermBound WindowBound(const WandTerm& term, uint32_t base, uint32_t end) {
  const PostingCursor& cursor = term.cursor;
  TermBound bound;
  for (size_t b = cursor.BlockFor(base); b < cursor.block_count(); ++b) {
    bound.score = std::max(bound.score, term.block_max[b]);
    bound.max_tf = std::max(bound.max_tf, cursor.block(b).max_tf);
    bound.min_len = std::min(bound.min_len, cursor.block(b).min_len);
    if (cursor.block(b).last_doc + 1 >= end) break;
  }
  return bound;
}

//! One window's state: terms by bound ascending, the non-essential prefix and dense arrays.
struct Window {
  uint32_t base = 0;
  uint32_t end = 0;
  std::vector<TermBound> bound;  // per term
  std::vector<uint32_t> tf_floor;  // per term: a doc where its tf is lower cannot enter
  std::vector<size_t> order;     // indices into terms, bound ascending
  std::vector<double> prefix;    // prefix[k]: the bounds of order[0..k) summed
  size_t essential = 0;          // order[essential..] are essential
  std::vector<double> partial;   // per doc: the essential terms' scores, kDead when it cannot enter
  std::vector<double> norm;      // per doc: TermScorer::Norm of its length (shared by the terms)
  std::vector<uint32_t> tfs;     // per term, per doc of the window: tf, 0 when absent
};

// The lowest tf of term t that may still enter `top`, whatever the other terms score: its
// score at the window's shortest doc plus all other bounds.
uint32_t TfFloor(const WandTerm& term, const TermBound& bound, double others, const TopK& top) {
  uint32_t tf = 1;
  while (tf <= bound.max_tf && !top.MayEnter(term.scorer.Score(tf, bound.min_len) + others)) ++tf;
  return tf;
}

// Bounds and ordering; false when the whole window cannot enter `top`.
bool PlanWindow(const std::vector<WandTerm>& terms, const TopK& top, Window* w) {
  w->order.clear();
  for (size_t t = 0; t < terms.size(); ++t) {
    w->bound[t] = WindowBound(terms[t], w->base, w->end);
    if (w->bound[t].score > 0) w->order.push_back(t);
  }
  std::sort(w->order.begin(), w->order.end(),
            [&](size_t a, size_t b) { return w->bound[a].score < w->bound[b].score; });
  w->prefix.assign(1, 0.0);
  for (size_t t : w->order) w->prefix.push_back(w->prefix.back() + w->bound[t].score);
  if (w->order.empty() || !top.MayEnter(w->prefix.back())) return false;
  w->essential = 0;
  while (w->essential < w->order.size() && !top.MayEnter(w->prefix[w->essential + 1])) {
    ++w->essential;
  }
  for (size_t t : w->order) {
    w->tf_floor[t] = TfFloor(terms[t], w->bound[t], w->prefix.back() - w->bound[t].score, top);
  }
  return true;
}

// Scores the essential terms of the window into w->partial and w->tfs.
void ScoreEssential(std::vector<WandTerm>& terms, const Segment& segment, Window* w) {
  const TermScorer& norms = terms[w->order.front()].scorer;
  for (uint32_t d = 0; d < w->end - w->base; ++d) {
    w->norm[d] = norms.Norm(segment.doc_len(w->base + d));
  }
  std::fill(w->partial.begin(), w->partial.end(), 0.0);
  std::fill(w->tfs.begin(), w->tfs.end(), 0u);
  for (size_t k = w->essential; k < w->order.size(); ++k) {
    size_t t = w->order[k];
    PostingCursor& cursor = terms[t].cursor;
    const TermScorer& scorer = terms[t].scorer;
    uint32_t* tfs = &w->tfs[t * kMaxScoreWindow];
    uint32_t floor = w->tf_floor[t];
    for (cursor.SeekGE(w->base); cursor.doc() < w->end; cursor.Next()) {
      uint32_t d = cursor.doc() - w->base;
      uint32_t tf = cursor.tf();
      if (tf < floor) {
        w->partial[d] = kDead;
        continue;
      }
      tfs[d] = tf;
      w->partial[d] += scorer.ScoreWithNorm(tf, w->norm[d]);
    }
  }
}

// Looks the non-essential terms up for doc `d` of the window, highest bound first; false as
// soon as its score can no longer enter `top`.
bool CompleteDoc(std::vector<WandTerm>& terms, const Segment& segment, const TopK& top,
                 uint32_t d, Window* w) {
  uint32_t doc = w->base + d;
  double score = w->partial[d];
  for (size_t k = w->essential; k-- > 0;) {
    if (!top.MayEnter(score + w->prefix[k + 1])) return false;
    size_t t = w->order[k];
    PostingCursor& cursor = terms[t].cursor;
    cursor.SeekGE(doc);
    if (cursor.doc() != doc) continue;
    if (cursor.tf() < w->tf_floor[t]) return false;
    w->tfs[t * kMaxScoreWindow + d] = cursor.tf();
    score += terms[t].scorer.ScoreWithNorm(cursor.tf(), w->norm[d]);
  }
  return top.MayEnter(score);
}

// The doc's score as the other scorers sum it: over the terms in their order.
double ExactScore(const std::vector<WandTerm>& terms, uint32_t d, const Window& w) {
  double score = 0;
  for (size_t t = 0; t < terms.size(); ++t) {
    uint32_t tf = w.tfs[t * kMaxScoreWindow + d];
    if (tf > 0) score += terms[t].scorer.ScoreWithNorm(tf, w.norm[d]);
  }
  return score;
}

}  // namespace

Status MaxScoreWindows(std::vector<WandTerm>& terms, const Segment& segment,
                       const Deletions* deletions, TopK* top) {
  Window w;
  w.bound.assign(terms.size(), {});
  w.tf_floor.assign(terms.size(), 1);
  w.partial.assign(kMaxScoreWindow, 0);
  w.norm.assign(kMaxScoreWindow, 0);
  w.tfs.assign(terms.size() * kMaxScoreWindow, 0);
  for (uint32_t base = 0; base < segment.doc_count(); base = w.end) {
    w.base = base;
    w.end = static_cast<uint32_t>(std::min<uint64_t>(segment.doc_count(),
                                                     uint64_t{base} + kMaxScoreWindow));
    if (!PlanWindow(terms, *top, &w)) continue;
    ScoreEssential(terms, segment, &w);
    for (uint32_t d = 0; d < w.end - w.base; ++d) {
      // Scores are positive: 0 is a doc no essential term holds, kDead one that cannot enter.
      if (!(w.partial[d] > 0) || !CompleteDoc(terms, segment, *top, d, &w)) continue;
      if (deletions != nullptr && deletions->Contains(w.base + d)) continue;
      top->Push(ExactScore(terms, d, w), segment.memory_id(w.base + d));
    }
  }
  for (const auto& t : terms) {
    if (t.cursor.corrupt()) return Status::Corruption("search segment: malformed posting list");
  }
  return Status::Ok();
}

}  // namespace papr::search
