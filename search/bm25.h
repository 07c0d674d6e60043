#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace papr::search {

//! BM25 (k1 = 1.2, b = 0.75) for one query term over a corpus: the same formula the store
//! used before segments, so scores did not change. Cheap to copy.
class TermScorer {
 public:
  static constexpr double kK1 = 1.2;
  static constexpr double kB = 0.75;

  // `doc_count` and `total_len` are the live docs of the scope searched; `df` the live docs
  // that hold the term.
  TermScorer(uint64_t doc_count, uint64_t total_len, uint64_t df) {
    double n = static_cast<double>(doc_count);
    double d = static_cast<double>(df);
    idf_ = std::log(1 + (n - d + 0.5) / (d + 0.5));
    avgdl_ = std::max(1.0, static_cast<double>(total_len) / std::max(1.0, n));
  }

  // Increasing in tf and decreasing in doc_len, so (max tf, min len) of a block bounds it.
  double Score(uint32_t tf, uint32_t doc_len) const { return ScoreWithNorm(tf, Norm(doc_len)); }

  // Score in two steps, for scorers that share one corpus (the same avgdl) and so one norm per
  // doc: ScoreWithNorm(tf, Norm(len)) is Score(tf, len), bit for bit.
  double Norm(uint32_t doc_len) const {
    return kK1 * (1 - kB + kB * static_cast<double>(doc_len) / avgdl_);
  }
  double ScoreWithNorm(uint32_t tf, double norm) const {
    double t = static_cast<double>(tf);
    return idf_ * (t * (kK1 + 1) / (t + norm));
  }

 private:
  double idf_ = 0;
  double avgdl_ = 1;
};

}  // namespace papr::search
