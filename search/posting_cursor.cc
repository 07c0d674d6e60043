#include "search/posting_cursor.h"

#include <algorithm>

namespace papr::search {

PostingCursor::PostingCursor(const TermInfo& info)
    : df_(info.df), blocks_(info.blocks), block_count_(info.block_count) {
  if (block_count_ > 0) LoadBlock(0);
}

void PostingCursor::LoadBlock(size_t i) {
  block_ = i;
  pos_ = 0;
  if (i >= block_count_) {
    doc_ = kEnd;
    return;
  }
  count_ = i + 1 < block_count_ ? kPostingBlockSize : df_ - i * kPostingBlockSize;
  uint32_t base = i == 0 ? 0 : blocks_[i - 1].last_doc;
  if (!DecodePostingBlock(blocks_[i].data, count_, base, docs_.data(), tfs_.data()) ||
      docs_[count_ - 1] != blocks_[i].last_doc) {
    corrupt_ = true;
    block_ = block_count_;
    doc_ = kEnd;
    return;
  }
  doc_ = docs_[0];
}

size_t PostingCursor::BlockFor(uint32_t target) const {
  if (block_ >= block_count_) return block_count_;
  if (blocks_[block_].last_doc >= target) return block_;
  const BlockMeta* it = std::lower_bound(
      blocks_ + block_ + 1, blocks_ + block_count_, target,
      [](const BlockMeta& b, uint32_t t) { return b.last_doc < t; });
  return static_cast<size_t>(it - blocks_);
}

void PostingCursor::SeekGE(uint32_t target) {
  if (doc_ == kEnd || doc_ >= target) return;
  size_t b = BlockFor(target);
  if (b != block_) LoadBlock(b);
  if (doc_ == kEnd) return;
  while (docs_[pos_] < target) ++pos_;  // the block's last doc is >= target
  doc_ = docs_[pos_];
}

}  // namespace papr::search
