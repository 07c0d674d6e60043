#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace papr::search {

//! One posting: an internal doc number of a segment and the term's frequency in that doc.
struct Posting {
  uint32_t doc = 0;
  uint32_t tf = 0;
};

// Postings are stored in blocks of this many (the last block of a list may be shorter); each
// block carries its maxima so top-k retrieval can skip it whole.
constexpr size_t kPostingBlockSize = 128;

// The block codec: doc numbers as deltas from `base` (the previous block's last doc, 0 for
// the first block), then the tfs, all LEB128 varints. Appends to `out`.
// REQUIRES: n <= kPostingBlockSize, docs strictly increasing and >= base.
void EncodePostingBlock(const Posting* postings, size_t n, uint32_t base, std::string* out);
// Decodes `n` postings of a block written by EncodePostingBlock. False when `data` is not
// exactly such a block.
bool DecodePostingBlock(std::string_view data, size_t n, uint32_t base, uint32_t* docs,
                        uint32_t* tfs);

}  // namespace papr::search
