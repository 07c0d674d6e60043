#include "search/top_k.h"

#include <algorithm>

namespace papr::search {
namespace {

// a ranks before b.
bool Better(const ScoredDoc& a, const ScoredDoc& b) {
  return a.score != b.score ? a.score > b.score : a.memory_id < b.memory_id;
}

}  // namespace

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
