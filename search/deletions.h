#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace papr::search {

//! What a tombstone row stores about the doc it deletes: its length and distinct terms, so
//! corpus statistics (doc count, total length, df) stay exact for live docs without reading
//! the deleted memory again.
struct Tombstone {
  uint32_t doc_len = 0;
  std::vector<std::string> terms;
};
std::string EncodeTombstone(const Tombstone& tombstone);
bool DecodeTombstone(std::string_view bytes, Tombstone* tombstone);

//! The deleted docs of one segment (tombstones until a merge drops the docs) and what they
//! take from the segment's statistics. Copied on write: a published Deletions is immutable.
class Deletions {
 public:
  explicit Deletions(uint32_t doc_count) : bits_((doc_count + 63) / 64, 0) {}

  bool Contains(uint32_t doc) const { return (bits_[doc / 64] >> (doc % 64)) & 1; }
  // False (nothing changes) when `doc` is already deleted.
  bool Add(uint32_t doc, std::string encoded_tombstone, const Tombstone& tombstone);
  uint32_t count() const { return count_; }
  uint64_t deleted_len() const { return deleted_len_; }
  // Deleted docs that hold `term`.
  uint32_t DeletedDf(std::string_view term) const;
  // doc -> encoded tombstone, to move tombstones onto a merged segment.
  const std::unordered_map<uint32_t, std::string>& tombstones() const { return encoded_; }

 private:
  std::vector<uint64_t> bits_;
  uint32_t count_ = 0;
  uint64_t deleted_len_ = 0;
  std::unordered_map<std::string, uint32_t> deleted_df_;
  std::unordered_map<uint32_t, std::string> encoded_;
};

}  // namespace papr::search
