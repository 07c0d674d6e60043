#include "search/block_max_wand.h"

#include <algorithm>

namespace papr::search {

WandTerm::WandTerm(const TermInfo& info, TermScorer term_scorer)
    : cursor(info), scorer(term_scorer) {
  block_max.reserve(cursor.block_count());
  for (size_t i = 0; i < cursor.block_count(); ++i) {
    double best = 0;
    const Impact* impacts = cursor.impacts(i);
    for (uint32_t j = 0; j < cursor.block(i).impact_count; ++j) {
      best = std::max(best, scorer.Score(impacts[j].tf, impacts[j].doc_len));
    }
    block_max.push_back(best);
    max_score = std::max(max_score, best);
  }
}

namespace {

using Order = std::vector<WandTerm*>;

// Insertion sort: queries have few terms and the order changes little between steps.
void SortByDoc(Order* order) {
  for (size_t i = 1; i < order->size(); ++i) {
    WandTerm* t = (*order)[i];
    size_t j = i;
    for (; j > 0 && (*order)[j - 1]->cursor.doc() > t->cursor.doc(); --j) {
      (*order)[j] = (*order)[j - 1];
    }
    (*order)[j] = t;
  }
  while (!order->empty() && order->back()->cursor.doc() == PostingCursor::kEnd) order->pop_back();
}

// The last index of the pivot group: the first prefix whose list bounds may enter `top`,
// extended over the cursors on the same doc. order.size() when none.
size_t FindPivot(const Order& order, const TopK& top) {
  double bound = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    bound += order[i]->max_score;
    if (!top.MayEnter(bound)) continue;
    uint32_t doc = order[i]->cursor.doc();
    while (i + 1 < order.size() && order[i + 1]->cursor.doc() == doc) ++i;
    return i;
  }
  return order.size();
}

void ScoreDoc(std::vector<WandTerm>& terms, const Segment& segment, uint32_t doc, TopK* top) {
  double score = 0;
  uint32_t len = segment.doc_len(doc);
  for (auto& t : terms) {
    if (t.cursor.doc() == doc) score += t.scorer.Score(t.cursor.tf(), len);
  }
  top->Push(score, segment.memory_id(doc));
}

}  // namespace

Status BlockMaxWand(std::vector<WandTerm>& terms, const Segment& segment,
                    const Deletions* deletions, TopK* top) {
  Order order;
  for (auto& t : terms) order.push_back(&t);
  for (SortByDoc(&order); !order.empty(); SortByDoc(&order)) {
    size_t p = FindPivot(order, *top);
    if (p == order.size()) break;
    uint32_t doc = order[p]->cursor.doc();
    // Block bounds for the docs in [doc, next): only cursors 0..p can match there.
    double bound = 0;
    uint32_t next = p + 1 < order.size() ? order[p + 1]->cursor.doc() : PostingCursor::kEnd;
    for (size_t i = 0; i <= p; ++i) {
      size_t b = order[i]->cursor.BlockFor(doc);
      if (b == order[i]->cursor.block_count()) continue;
      bound += order[i]->block_max[b];
      next = std::min(next, order[i]->cursor.block(b).last_doc + 1);
    }
    if (!top->MayEnter(bound)) {
      for (size_t i = 0; i <= p; ++i) order[i]->cursor.SeekGE(next);
    } else if (order[0]->cursor.doc() == doc) {
      if (deletions == nullptr || !deletions->Contains(doc)) ScoreDoc(terms, segment, doc, top);
      for (size_t i = 0; i <= p; ++i) order[i]->cursor.Next();
    } else {
      for (size_t i = 0; i < p; ++i) order[i]->cursor.SeekGE(doc);
    }
  }
  for (const auto& t : terms) {
    if (t.cursor.corrupt()) return Status::Corruption("search segment: malformed posting list");
  }
  return Status::Ok();
}

}  // namespace papr::search
