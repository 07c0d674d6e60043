#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "search/posting_codec.h"

namespace papr::search {

//! Writes one immutable segment (format in segment_writer.cc): first every doc, numbered from
//! 0 in the order added, then each term's posting list in ascending term order. Not
//! thread-safe; one segment per writer.
class SegmentWriter {
 public:
  // Returns the doc's number.
  uint32_t AddDoc(std::string_view memory_id, uint32_t doc_len);
  // REQUIRES: terms added in strictly ascending byte order; postings non-empty, docs strictly
  // increasing and already added, tf >= 1.
  void AddTerm(std::string_view term, const std::vector<Posting>& postings);
  uint32_t doc_count() const { return static_cast<uint32_t>(doc_lens_.size()); }
  std::string Finish();

 private:
  std::string docs_;
  std::string terms_;
  std::vector<uint32_t> doc_lens_;
  uint64_t total_len_ = 0;
  uint64_t term_count_ = 0;
  // Per-block scratch of AddTerm (kept to reuse their memory).
  std::vector<std::pair<uint32_t, uint32_t>> impact_scratch_;
  std::vector<std::pair<uint32_t, uint32_t>> impacts_;
};

}  // namespace papr::search
