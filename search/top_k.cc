#include "search/top_k.h"

#include <algorithm>

namespace papr::search {
namespace {

// a ranks before b.
bool Better(const ScoredDoc& a, const ScoredDoc& b) {
  return a.score != b.score ? a.score > b.score : a.memory_id < b.memory_id;
}

// Scores are sums in slightly different orders in bounds and in final scores; the slack keeps
// rounding from pruning a document that ties the threshold.
constexpr double kBoundSlack = 1e-9;

}  // namespace

bool TopK::MayEnter(double bound) const {
  if (heap_.size() < k_) return k_ > 0;
  return bound * (1 + kBoundSlack) + kBoundSlack >= heap_.front().score;
}

void TopK::Push(double score, std::string_view memory_id) {
  ScoredDoc doc{score, memory_id};
  ++offered_;
  if (heap_.size() < k_) {
    heap_.push_back(doc);
    std::push_heap(heap_.begin(), heap_.end(), Better);
    return;
  }
  if (k_ == 0 || !Better(doc, heap_.front())) return;
  std::pop_heap(heap_.begin(), heap_.end(), Better);
  heap_.back() = doc;
  std::push_heap(heap_.begin(), heap_.end(), Better);
}

std::vector<ScoredDoc> TopK::Take() {
  std::sort_heap(heap_.begin(), heap_.end(), Better);
  return std::move(heap_);
}

}  // namespace papr::search
