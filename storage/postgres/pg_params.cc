#include "storage/postgres/pg_params.h"

#include <utility>

namespace papr::storage::pg {
namespace {

void PutBE(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (i * 8)) & 0xff));
}

// array_send's header of a one-dimensional array without NULLs.
std::string ArrayHeader(unsigned elem_oid, size_t n) {
  std::string out;
  PutBE(&out, 1, 4);  // ndim
  PutBE(&out, 0, 4);  // has nulls: no
  PutBE(&out, elem_oid, 4);
  PutBE(&out, n, 4);  // dimension size
  PutBE(&out, 1, 4);  // lower bound
  return out;
}

}  // namespace

void PgParams::Push(std::string bytes) {
  lengths_.push_back(static_cast<int>(bytes.size()));
  formats_.push_back(1);
  storage_.push_back(std::move(bytes));
}

const char* const* PgParams::values() const {
  values_.clear();
  for (const std::string& value : storage_) values_.push_back(value.data());
  return values_.data();
}

PgParams& PgParams::Bytes(std::string_view value) {
  Push(std::string(value));
  return *this;
}

PgParams& PgParams::Int2(int16_t value) {
  std::string out;
  PutBE(&out, static_cast<uint16_t>(value), 2);
  Push(std::move(out));
  return *this;
}

PgParams& PgParams::Int4(int32_t value) {
  std::string out;
  PutBE(&out, static_cast<uint32_t>(value), 4);
  Push(std::move(out));
  return *this;
}

PgParams& PgParams::Int8(int64_t value) {
  std::string out;
  PutBE(&out, static_cast<uint64_t>(value), 8);
  Push(std::move(out));
  return *this;
}

PgParams& PgParams::ByteaArray(const std::vector<std::string_view>& items) {
  size_t bytes = 20;
  for (std::string_view item : items) bytes += 4 + item.size();
  std::string out = ArrayHeader(kByteaOid, items.size());
  out.reserve(bytes);
  for (std::string_view item : items) {
    PutBE(&out, item.size(), 4);
    out.append(item);
  }
  Push(std::move(out));
  return *this;
}

PgParams& PgParams::Int2Array(const std::vector<int16_t>& items) {
  std::string out = ArrayHeader(kInt2Oid, items.size());
  for (int16_t item : items) {
    PutBE(&out, 2, 4);
    PutBE(&out, static_cast<uint16_t>(item), 2);
  }
  Push(std::move(out));
  return *this;
}

PgParams& PgParams::Int8Array(const std::vector<int64_t>& items) {
  std::string out = ArrayHeader(kInt8Oid, items.size());
  for (int64_t item : items) {
    PutBE(&out, 8, 4);
    PutBE(&out, static_cast<uint64_t>(item), 8);
  }
  Push(std::move(out));
  return *this;
}

int64_t DecodeInt8(const char* data) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(data[i]);
  return static_cast<int64_t>(v);
}

}  // namespace papr::storage::pg
