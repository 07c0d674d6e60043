#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace papr {

// Little helpers for compact binary encodings (history events, stored records, keys).
// Varints are LEB128; fixed-width integers in keys are big-endian so byte order is numeric
// order in RocksDB.

inline void PutVarint64(std::string* dst, uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

inline bool GetVarint64(std::string_view* src, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !src->empty(); shift += 7) {
    auto byte = static_cast<uint8_t>(src->front());
    src->remove_prefix(1);
    if (shift == 63 && byte > 1) return false;  // more than 64 bits: corrupt
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

// Zig-zag for signed values.
inline void PutSignedVarint64(std::string* dst, int64_t v) {
  PutVarint64(dst, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}
inline bool GetSignedVarint64(std::string_view* src, int64_t* v) {
  uint64_t u;
  if (!GetVarint64(src, &u)) return false;
  *v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  return true;
}

inline void PutLengthPrefixed(std::string* dst, std::string_view s) {
  PutVarint64(dst, s.size());
  dst->append(s);
}
inline bool GetLengthPrefixed(std::string_view* src, std::string_view* out) {
  uint64_t n;
  if (!GetVarint64(src, &n) || n > src->size()) return false;
  *out = src->substr(0, n);
  src->remove_prefix(n);
  return true;
}
inline bool GetLengthPrefixed(std::string_view* src, std::string* out) {
  std::string_view view;
  if (!GetLengthPrefixed(src, &view)) return false;
  out->assign(view);
  return true;
}

inline void PutFixed64BE(std::string* dst, uint64_t v) {
  for (int i = 7; i >= 0; --i) dst->push_back(static_cast<char>((v >> (i * 8)) & 0xff));
}
inline bool GetFixed64BE(std::string_view* src, uint64_t* v) {
  if (src->size() < 8) return false;
  uint64_t r = 0;
  for (int i = 0; i < 8; ++i) r = (r << 8) | static_cast<uint8_t>((*src)[i]);
  src->remove_prefix(8);
  *v = r;
  return true;
}

}  // namespace papr
