#include "search/posting_codec.h"

namespace papr::search {
namespace {

void PutVarint32(uint32_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Reads one varint from [*p, end); false when truncated or longer than 32 bits.
bool GetVarint32(const unsigned char** p, const unsigned char* end, uint32_t* v) {
  uint32_t result = 0;
  for (int shift = 0; shift <= 28 && *p < end; shift += 7) {
    uint32_t byte = *(*p)++;
    if (shift == 28 && byte > 0x0f) return false;
    result |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

// The common case of dense lists: every delta and tf below 0x80, so the block is exactly 2n
// single-byte varints (a longer varint would make it longer). One pass the compiler
// vectorises, no per-byte branches.
bool DecodeSingleBytes(const unsigned char* p, size_t n, uint32_t base, uint32_t* docs,
                       uint32_t* tfs) {
  unsigned high = 0;
  unsigned zero = 0;
  for (size_t i = 0; i < 2 * n; ++i) high |= p[i];
  for (size_t i = 1; i < 2 * n; ++i) zero |= p[i] == 0 ? 1u : 0u;  // delta 0 past the first, tf 0
  if ((high & 0x80) != 0 || zero != 0) return false;
  uint64_t doc = base;
  for (size_t i = 0; i < n; ++i) {
    doc += p[i];
    docs[i] = static_cast<uint32_t>(doc);
  }
  for (size_t i = 0; i < n; ++i) tfs[i] = p[n + i];
  return doc <= UINT32_MAX - 1;
}

}  // namespace

void EncodePostingBlock(const Posting* postings, size_t n, uint32_t base, std::string* out) {
  uint32_t prev = base;
  for (size_t i = 0; i < n; ++i) {
    PutVarint32(postings[i].doc - prev, out);
    prev = postings[i].doc;
  }
  for (size_t i = 0; i < n; ++i) PutVarint32(postings[i].tf, out);
}

bool DecodePostingBlock(std::string_view data, size_t n, uint32_t base, uint32_t* docs,
                        uint32_t* tfs) {
  if (n > 0 && data.size() == 2 * n) {
    return DecodeSingleBytes(reinterpret_cast<const unsigned char*>(data.data()), n, base, docs,
                             tfs);
  }
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const unsigned char* end = p + data.size();
  uint64_t doc = base;
  for (size_t i = 0; i < n; ++i) {
    uint32_t delta = 0;
    if (!GetVarint32(&p, end, &delta)) return false;
    doc += delta;
    if (doc > UINT32_MAX - 1 || (i > 0 && delta == 0)) return false;
    docs[i] = static_cast<uint32_t>(doc);
  }
  for (size_t i = 0; i < n; ++i) {
    if (!GetVarint32(&p, end, &tfs[i]) || tfs[i] == 0) return false;
  }
  return p == end;
}

}  // namespace papr::search
