#include "search/segment_writer.h"

#include <algorithm>

#include "common/byte_codec.h"

// Segment format (all integers LEB128 varints, lp = varint length then bytes):
//   segment  := "PSG1" doc_count total_len doc{doc_count} term_count term{term_count}
//   doc      := lp(memory_id) doc_len
//   term     := lp(term) df max_tf min_len block_count postings_bytes postings
//   postings := meta{block_count} data{block_count}
//   meta     := last_doc impact_count (tf len){impact_count} data_bytes
//               impacts: the block's Pareto-optimal (tf, doc_len) pairs, tf descending and len
//               ascending (as Lucene's impacts): the best BM25 score of the block is the best
//               over them, for any corpus statistics; at most kMaxImpacts (the rest folded
//               into the last pair, still an upper bound)
//   data     := EncodePostingBlock of up to kPostingBlockSize postings, delta base = the
//               previous block's last_doc (0 for the first)
// A term's max_tf and min_len are over the whole list.

namespace papr::search {
namespace {

constexpr size_t kMaxImpacts = 8;

// The Pareto frontier of (tf, len) over a block into `frontier`: no kept pair has both a lower
// tf and a longer doc than another posting. Only the shortest doc of each tf can be on it,
// so the (few) distinct tfs are sorted, not the block. `by_tf` is scratch (reused per block).
void Impacts(const Posting* postings, size_t n, const std::vector<uint32_t>& doc_lens,
             std::vector<std::pair<uint32_t, uint32_t>>* by_tf,
             std::vector<std::pair<uint32_t, uint32_t>>* frontier) {
  by_tf->clear();
  for (size_t i = 0; i < n; ++i) {
    uint32_t len = doc_lens[postings[i].doc];
    auto it = std::find_if(by_tf->begin(), by_tf->end(),
                           [&](const auto& p) { return p.first == postings[i].tf; });
    if (it == by_tf->end()) {
      by_tf->emplace_back(postings[i].tf, len);
    } else {
      it->second = std::min(it->second, len);
    }
  }
  std::sort(by_tf->begin(), by_tf->end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  frontier->clear();
  for (const auto& p : *by_tf) {
    if (frontier->empty() || p.second < frontier->back().second) frontier->push_back(p);
  }
  if (frontier->size() > kMaxImpacts) {
    // Fold the tail into one pair that bounds it: its highest tf with its shortest doc.
    (*frontier)[kMaxImpacts - 1].second = frontier->back().second;
    frontier->resize(kMaxImpacts);
  }
}

}  // namespace

uint32_t SegmentWriter::AddDoc(std::string_view memory_id, uint32_t doc_len) {
  PutLengthPrefixed(&docs_, memory_id);
  PutVarint64(&docs_, doc_len);
  doc_lens_.push_back(doc_len);
  total_len_ += doc_len;
  return static_cast<uint32_t>(doc_lens_.size() - 1);
}

void SegmentWriter::AddTerm(std::string_view term, const std::vector<Posting>& postings) {
  std::string metas;
  std::string data;
  uint32_t term_max_tf = 0;
  uint32_t term_min_len = UINT32_MAX;
  uint32_t base = 0;
  size_t block_count = 0;
  for (size_t start = 0; start < postings.size(); start += kPostingBlockSize) {
    size_t n = std::min(kPostingBlockSize, postings.size() - start);
    uint32_t max_tf = 0;
    uint32_t min_len = UINT32_MAX;
    for (size_t i = start; i < start + n; ++i) {
      max_tf = std::max(max_tf, postings[i].tf);
      min_len = std::min(min_len, doc_lens_[postings[i].doc]);
    }
    size_t before = data.size();
    EncodePostingBlock(&postings[start], n, base, &data);
    base = postings[start + n - 1].doc;
    PutVarint64(&metas, base);
    Impacts(&postings[start], n, doc_lens_, &impact_scratch_, &impacts_);
    PutVarint64(&metas, impacts_.size());
    for (const auto& [tf, len] : impacts_) {
      PutVarint64(&metas, tf);
      PutVarint64(&metas, len);
    }
    PutVarint64(&metas, data.size() - before);
    term_max_tf = std::max(term_max_tf, max_tf);
    term_min_len = std::min(term_min_len, min_len);
    ++block_count;
  }
  PutLengthPrefixed(&terms_, term);
  PutVarint64(&terms_, postings.size());
  PutVarint64(&terms_, term_max_tf);
  PutVarint64(&terms_, term_min_len);
  PutVarint64(&terms_, block_count);
  PutVarint64(&terms_, metas.size() + data.size());
  terms_.append(metas);
  terms_.append(data);
  ++term_count_;
}

std::string SegmentWriter::Finish() {
  std::string out = "PSG1";
  PutVarint64(&out, doc_lens_.size());
  PutVarint64(&out, total_len_);
  out.append(docs_);
  PutVarint64(&out, term_count_);
  out.append(terms_);
  return out;
}

}  // namespace papr::search
