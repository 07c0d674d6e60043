#include "search/posting_cursor.h"

#include <algorithm>

#include "common/byte_codec.h"

namespace papr::search {
namespace {

bool GetU32(std::string_view* in, uint32_t* v) {
  uint64_t x = 0;
  if (!GetVarint64(in, &x) || x > UINT32_MAX) return false;
  *v = static_cast<uint32_t>(x);
  return true;
}

}  // namespace

bool PostingCursor::ParseMeta(std::string_view* in, BlockMeta* meta, uint32_t* data_size) {
  if (!GetU32(in, &meta->last_doc) || !GetU32(in, &meta->impact_count) ||
      meta->impact_count == 0 || meta->impact_count > in->size()) {
    return false;
  }
  meta->impact_begin = static_cast<uint32_t>(impacts_.size());
  meta->min_len = UINT32_MAX;
  for (uint32_t i = 0; i < meta->impact_count; ++i) {
    Impact impact;
    if (!GetU32(in, &impact.tf) || !GetU32(in, &impact.doc_len)) return false;
    meta->max_tf = std::max(meta->max_tf, impact.tf);
    meta->min_len = std::min(meta->min_len, impact.doc_len);
    impacts_.push_back(impact);
  }
  return GetU32(in, data_size);
}

PostingCursor::PostingCursor(const TermInfo& info) : df_(info.df) {
  std::string_view in = info.postings;
  blocks_.resize(info.block_count);
  std::vector<uint32_t> sizes(info.block_count);
  impacts_.reserve(info.block_count * 2);
  for (size_t i = 0; i < blocks_.size(); ++i) {
    if (!ParseMeta(&in, &blocks_[i], &sizes[i])) {
      corrupt_ = true;
      blocks_.clear();
      return;
    }
  }
  for (size_t i = 0; i < blocks_.size(); ++i) {
    if (sizes[i] > in.size()) {
      corrupt_ = true;
      blocks_.clear();
      return;
    }
    blocks_[i].data = in.substr(0, sizes[i]);
    in.remove_prefix(sizes[i]);
  }
  if (!blocks_.empty()) LoadBlock(0);
}

void PostingCursor::LoadBlock(size_t i) {
  block_ = i;
  pos_ = 0;
  if (i >= blocks_.size()) {
    doc_ = kEnd;
    return;
  }
  count_ = i + 1 < blocks_.size() ? kPostingBlockSize : df_ - i * kPostingBlockSize;
  uint32_t base = i == 0 ? 0 : blocks_[i - 1].last_doc;
  if (!DecodePostingBlock(blocks_[i].data, count_, base, docs_.data(), tfs_.data()) ||
      docs_[count_ - 1] != blocks_[i].last_doc) {
    corrupt_ = true;
    block_ = blocks_.size();
    doc_ = kEnd;
    return;
  }
  doc_ = docs_[0];
}

void PostingCursor::Next() {
  if (doc_ == kEnd) return;
  if (++pos_ < count_) {
    doc_ = docs_[pos_];
  } else {
    LoadBlock(block_ + 1);
  }
}

size_t PostingCursor::BlockFor(uint32_t target) const {
  if (block_ >= blocks_.size()) return blocks_.size();
  if (blocks_[block_].last_doc >= target) return block_;
  auto it = std::lower_bound(blocks_.begin() + static_cast<std::ptrdiff_t>(block_) + 1,
                             blocks_.end(), target,
                             [](const BlockMeta& b, uint32_t t) { return b.last_doc < t; });
  return static_cast<size_t>(it - blocks_.begin());
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
