#include "search/deletions.h"

#include "common/byte_codec.h"

namespace papr::search {

std::string EncodeTombstone(const Tombstone& tombstone) {
  std::string out;
  PutVarint64(&out, tombstone.doc_len);
  PutVarint64(&out, tombstone.terms.size());
  for (const auto& term : tombstone.terms) PutLengthPrefixed(&out, term);
  return out;
}

bool DecodeTombstone(std::string_view bytes, Tombstone* tombstone) {
  uint64_t len = 0;
  uint64_t n = 0;
  if (!GetVarint64(&bytes, &len) || len > UINT32_MAX || !GetVarint64(&bytes, &n) ||
      n > bytes.size()) {
    return false;
  }
  tombstone->doc_len = static_cast<uint32_t>(len);
  tombstone->terms.resize(n);
  for (auto& term : tombstone->terms) {
    if (!GetLengthPrefixed(&bytes, &term)) return false;
  }
  return bytes.empty();
}

bool Deletions::Add(uint32_t doc, std::string encoded_tombstone, const Tombstone& tombstone) {
  if (Contains(doc)) return false;
  bits_[doc / 64] |= uint64_t{1} << (doc % 64);
  ++count_;
  deleted_len_ += tombstone.doc_len;
  for (const auto& term : tombstone.terms) ++deleted_df_[term];
  encoded_.emplace(doc, std::move(encoded_tombstone));
  return true;
}

uint32_t Deletions::DeletedDf(std::string_view term) const {
  if (deleted_df_.empty()) return 0;
  auto it = deleted_df_.find(std::string(term));
  return it == deleted_df_.end() ? 0 : it->second;
}

}  // namespace papr::search
