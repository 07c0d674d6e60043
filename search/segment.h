#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace papr::search {

//! A (tf, doc length) pair of a block's impacts (segment_writer.cc).
struct Impact {
  uint32_t tf = 0;
  uint32_t doc_len = 0;
};

//! The maxima of one block of a posting list and where its encoded postings are.
struct BlockMeta {
  uint32_t last_doc = 0;
  uint32_t max_tf = 0;   // over the block
  uint32_t min_len = 0;  // over the block
  uint32_t impact_count = 0;
  const Impact* impacts = nullptr;  // impact_count of them, owned by the segment
  std::string_view data;
};

//! Where one term's posting list lives in a segment, and its list-level maxima. The block
//! metas are decoded once when the segment opens (not per query); the postings stay encoded.
struct TermInfo {
  std::string_view term;
  uint32_t df = 0;
  uint32_t max_tf = 0;
  uint32_t min_len = 0;
  uint32_t block_count = 0;
  std::string_view postings;        // metas then block data (segment_writer.cc)
  const BlockMeta* blocks = nullptr;  // block_count of them, owned by the segment
};

//! One immutable segment, parsed from the bytes SegmentWriter wrote: the term dictionary
//! (sorted, binary-searched), doc lengths and the doc number -> memory id map. Posting lists
//! stay encoded until a PostingCursor reads them. Immutable, so safe to share across threads.
class Segment {
 public:
  // Corruption when `bytes` is not a well-formed segment.
  static Result<std::shared_ptr<const Segment>> Open(std::string bytes);

  uint32_t doc_count() const { return static_cast<uint32_t>(doc_lens_.size()); }
  uint64_t total_len() const { return total_len_; }
  std::string_view memory_id(uint32_t doc) const { return ids_[doc]; }
  uint32_t doc_len(uint32_t doc) const { return doc_lens_[doc]; }
  // nullptr when the term is absent.
  const TermInfo* Find(std::string_view term) const;
  // Every term, ascending.
  const std::vector<TermInfo>& terms() const { return terms_; }
  std::optional<uint32_t> FindDoc(std::string_view memory_id) const;
  size_t byte_size() const { return bytes_.size(); }

 private:
  Segment() = default;
  Status Parse();
  Status ParseTerm(std::string_view* in);
  // Decodes the block metas of terms_.back() into blocks_ and impacts_.
  Status ParseBlocks();
  // Points every TermInfo and BlockMeta into blocks_ and impacts_ (once they stopped growing).
  void LinkBlocks();

  std::string bytes_;
  uint64_t total_len_ = 0;
  std::vector<std::string_view> ids_;
  std::vector<uint32_t> doc_lens_;
  std::vector<uint32_t> docs_by_id_;  // doc numbers ordered by memory id, for FindDoc
  std::vector<TermInfo> terms_;
  std::vector<BlockMeta> blocks_;  // every term's, in term order
  std::vector<Impact> impacts_;    // every block's, in block order
  std::vector<size_t> impact_begin_;  // per block: its first impact (while parsing)
};

}  // namespace papr::search
