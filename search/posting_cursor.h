#pragma once

#include <array>
#include <cstdint>

#include "search/posting_codec.h"
#include "search/segment.h"

namespace papr::search {

//! Reads one term's posting list of a segment in doc order, decoding one block at a time and
//! skipping whole blocks on SeekGE. Not thread-safe (one per query and term).
class PostingCursor {
 public:
  static constexpr uint32_t kEnd = UINT32_MAX;

  explicit PostingCursor(const TermInfo& info);

  // The current doc, kEnd when exhausted.
  uint32_t doc() const { return doc_; }
  uint32_t tf() const { return tfs_[pos_]; }
  // Inline: the scorers call it per posting.
  void Next() {
    if (doc_ == kEnd) return;
    if (++pos_ < count_) {
      doc_ = docs_[pos_];
    } else {
      LoadBlock(block_ + 1);
    }
  }
  // Moves to the first doc >= target (never backwards).
  void SeekGE(uint32_t target);
  // Index of the block that holds the first doc >= target, block_count() when none; decodes
  // nothing (a "shallow" move, for block maxima).
  size_t BlockFor(uint32_t target) const;
  const BlockMeta& block(size_t i) const { return blocks_[i]; }
  size_t block_count() const { return block_count_; }
  const Impact* impacts(size_t block) const { return blocks_[block].impacts; }
  // True when the list turned out malformed (the cursor then ends early).
  bool corrupt() const { return corrupt_; }

 private:
  void LoadBlock(size_t i);

  uint32_t df_;
  const BlockMeta* blocks_;  // the segment's, decoded when it opened
  size_t block_count_;
  size_t block_ = 0;  // current block
  size_t pos_ = 0;    // position in it
  size_t count_ = 0;  // postings in it
  uint32_t doc_ = kEnd;
  bool corrupt_ = false;
  std::array<uint32_t, kPostingBlockSize> docs_{};
  std::array<uint32_t, kPostingBlockSize> tfs_{};
};

}  // namespace papr::search
