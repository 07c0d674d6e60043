#include "search/segment.h"

#include <algorithm>

#include "common/byte_codec.h"
#include "search/posting_codec.h"

namespace papr::search {
namespace {

// The smallest block meta: last doc, impact count, one impact (tf, length) and the data size,
// one varint byte each.
constexpr uint64_t kMinBlockMetaBytes = 5;

Status Corrupt(const char* what) {
  return Status::Corruption(std::string("search segment: ") + what);
}

bool GetU32(std::string_view* in, uint32_t* v) {
  uint64_t x = 0;
  if (!GetVarint64(in, &x) || x > UINT32_MAX) return false;
  *v = static_cast<uint32_t>(x);
  return true;
}

}  // namespace

Result<std::shared_ptr<const Segment>> Segment::Open(std::string bytes) {
  std::shared_ptr<Segment> segment(new Segment());
  segment->bytes_ = std::move(bytes);
  RETURN_IF_ERROR(segment->Parse());
  return std::shared_ptr<const Segment>(std::move(segment));
}

Status Segment::Parse() {
  std::string_view in = bytes_;
  if (!in.starts_with("PSG1")) return Corrupt("bad magic");
  in.remove_prefix(4);
  uint32_t doc_count = 0;
  if (!GetU32(&in, &doc_count) || !GetVarint64(&in, &total_len_)) return Corrupt("bad header");
  if (doc_count > in.size()) return Corrupt("doc count past the end");
  ids_.resize(doc_count);
  doc_lens_.resize(doc_count);
  for (uint32_t d = 0; d < doc_count; ++d) {
    if (!GetLengthPrefixed(&in, &ids_[d]) || !GetU32(&in, &doc_lens_[d])) {
      return Corrupt("bad doc table");
    }
  }
  docs_by_id_.resize(doc_count);
  for (uint32_t d = 0; d < doc_count; ++d) docs_by_id_[d] = d;
  std::sort(docs_by_id_.begin(), docs_by_id_.end(),
            [this](uint32_t a, uint32_t b) { return ids_[a] < ids_[b]; });
  uint64_t term_count = 0;
  if (!GetVarint64(&in, &term_count) || term_count > in.size()) return Corrupt("bad term count");
  terms_.reserve(term_count);
  for (uint64_t t = 0; t < term_count; ++t) RETURN_IF_ERROR(ParseTerm(&in));
  if (!in.empty()) return Corrupt("trailing bytes");
  LinkBlocks();
  return Status::Ok();
}

Status Segment::ParseBlocks() {
  TermInfo& info = terms_.back();
  std::string_view in = info.postings;
  size_t first = blocks_.size();
  std::vector<uint32_t> sizes(info.block_count);
  for (uint32_t b = 0; b < info.block_count; ++b) {
    BlockMeta meta;
    if (!GetU32(&in, &meta.last_doc) || !GetU32(&in, &meta.impact_count) ||
        meta.impact_count == 0 || meta.impact_count > in.size()) {
      return Corrupt("bad block meta");
    }
    impact_begin_.push_back(impacts_.size());
    meta.min_len = UINT32_MAX;
    for (uint32_t i = 0; i < meta.impact_count; ++i) {
      Impact impact;
      if (!GetU32(&in, &impact.tf) || !GetU32(&in, &impact.doc_len)) return Corrupt("bad impact");
      meta.max_tf = std::max(meta.max_tf, impact.tf);
      meta.min_len = std::min(meta.min_len, impact.doc_len);
      impacts_.push_back(impact);
    }
    if (!GetU32(&in, &sizes[b])) return Corrupt("bad block meta");
    blocks_.push_back(meta);
  }
  for (uint32_t b = 0; b < info.block_count; ++b) {  // the data follows all the metas
    if (sizes[b] > in.size()) return Corrupt("block data past the end");
    blocks_[first + b].data = in.substr(0, sizes[b]);
    in.remove_prefix(sizes[b]);
  }
  return Status::Ok();
}

void Segment::LinkBlocks() {
  for (size_t b = 0; b < blocks_.size(); ++b) blocks_[b].impacts = &impacts_[impact_begin_[b]];
  size_t next = 0;
  for (TermInfo& info : terms_) {
    info.blocks = blocks_.data() + next;
    next += info.block_count;
  }
  impact_begin_ = {};
}

Status Segment::ParseTerm(std::string_view* in) {
  TermInfo info;
  uint64_t postings_bytes = 0;
  if (!GetLengthPrefixed(in, &info.term) || !GetU32(in, &info.df) || !GetU32(in, &info.max_tf) ||
      !GetU32(in, &info.min_len) || !GetU32(in, &info.block_count) ||
      !GetVarint64(in, &postings_bytes) || postings_bytes > in->size()) {
    return Corrupt("bad term entry");
  }
  if (info.df == 0 || info.block_count != (info.df + kPostingBlockSize - 1) / kPostingBlockSize) {
    return Corrupt("bad df");
  }
  // Each block's meta takes at least kMinBlockMetaBytes: a corrupt df allocates nothing large.
  if (info.block_count > postings_bytes / kMinBlockMetaBytes) return Corrupt("bad block count");
  if (!terms_.empty() && !(terms_.back().term < info.term)) return Corrupt("terms out of order");
  info.postings = in->substr(0, postings_bytes);
  in->remove_prefix(postings_bytes);
  terms_.push_back(info);
  return ParseBlocks();
}

const TermInfo* Segment::Find(std::string_view term) const {
  auto it = std::lower_bound(terms_.begin(), terms_.end(), term,
                             [](const TermInfo& t, std::string_view key) { return t.term < key; });
  return it != terms_.end() && it->term == term ? &*it : nullptr;
}

std::optional<uint32_t> Segment::FindDoc(std::string_view memory_id) const {
  auto it = std::lower_bound(docs_by_id_.begin(), docs_by_id_.end(), memory_id,
                             [this](uint32_t d, std::string_view key) { return ids_[d] < key; });
  if (it == docs_by_id_.end() || ids_[*it] != memory_id) return std::nullopt;
  return *it;
}

}  // namespace papr::search
