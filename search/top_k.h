#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace papr::search {

//! A scored document: the memory id points into a segment the caller keeps alive.
struct ScoredDoc {
  double score = 0;
  std::string_view memory_id;
};

//! The k best documents seen so far: higher score first, equal scores by memory id
//! ascending (deterministic results). Not thread-safe.
class TopK {
 public:
  explicit TopK(size_t k) : k_(k) {}

  // Whether a document whose score is at most `bound` could still enter. Inline: the
  // scorers ask it per candidate doc.
  bool MayEnter(double bound) const {
    if (heap_.size() < k_) return k_ > 0;
    return bound * (1 + kBoundSlack) + kBoundSlack >= heap_.front().score;
  }
  void Push(double score, std::string_view memory_id);
  // Best first; empties this.
  std::vector<ScoredDoc> Take();
  size_t k() const { return k_; }
  // Documents offered by Push so far (scored in full), for tests of pruning.
  size_t offered() const { return offered_; }

 private:
  // Scores are sums in slightly different orders in bounds and in final scores; the slack
  // keeps rounding from pruning a document that ties the threshold.
  static constexpr double kBoundSlack = 1e-9;

  size_t k_;
  size_t offered_ = 0;
  std::vector<ScoredDoc> heap_;  // the worst of the best k on top
};

}  // namespace papr::search
