#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "search/posting_codec.h"
#include "search/segment.h"

namespace papr::search {

//! A (tf, doc length) pair of a block's impacts (segment_writer.cc).
struct Impact {
  uint32_t tf = 0;
  uint32_t doc_len = 0;
};

//! The maxima of one block of a posting list.
struct BlockMeta {
  uint32_t last_doc = 0;
  uint32_t max_tf = 0;   // over the block
  uint32_t min_len = 0;  // over the block
  uint32_t impact_begin = 0;  // index into PostingCursor::impacts()
  uint32_t impact_count = 0;
  std::string_view data;
};

//! Reads one term's posting list of a segment in doc order, decoding one block at a time and
//! skipping whole blocks on SeekGE. Not thread-safe (one per query and term).
class PostingCursor {
 public:
  static constexpr uint32_t kEnd = UINT32_MAX;

  explicit PostingCursor(const TermInfo& info);

  // The current doc, kEnd when exhausted.
  uint32_t doc() const { return doc_; }
  uint32_t tf() const { return tfs_[pos_]; }
  void Next();
  // Moves to the first doc >= target (never backwards).
  void SeekGE(uint32_t target);
  // Index of the block that holds the first doc >= target, block_count() when none; decodes
  // nothing (a "shallow" move, for block maxima).
  size_t BlockFor(uint32_t target) const;
  const BlockMeta& block(size_t i) const { return blocks_[i]; }
  size_t block_count() const { return blocks_.size(); }
  const Impact* impacts(size_t block) const { return &impacts_[blocks_[block].impact_begin]; }
  // True when the list turned out malformed (the cursor then ends early).
  bool corrupt() const { return corrupt_; }

 private:
  void LoadBlock(size_t i);

  uint32_t df_;
  bool ParseMeta(std::string_view* in, BlockMeta* meta, uint32_t* data_size);

  std::vector<BlockMeta> blocks_;
  std::vector<Impact> impacts_;
  size_t block_ = 0;  // current block
  size_t pos_ = 0;    // position in it
  size_t count_ = 0;  // postings in it
  uint32_t doc_ = kEnd;
  bool corrupt_ = false;
  std::array<uint32_t, kPostingBlockSize> docs_{};
  std::array<uint32_t, kPostingBlockSize> tfs_{};
};

}  // namespace papr::search
