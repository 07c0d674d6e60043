#pragma once

// Binary-format parameters of a prepared statement (no text escaping of bytea): integers in
// network byte order, one-dimensional arrays in PostgreSQL's array_send format.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace papr::storage::pg {

// Type OIDs of the parameter and result types used (pg_type.h).
constexpr unsigned kByteaOid = 17;
constexpr unsigned kInt8Oid = 20;
constexpr unsigned kInt2Oid = 21;
constexpr unsigned kInt4Oid = 23;

//! The parameters of one statement execution. Not thread-safe. Copyable and movable: the
//! pointer array handed to libpq is rebuilt by values() (copies of a std::string move its
//! bytes, so no pointer is kept across them).
class PgParams {
 public:
  PgParams& Bytes(std::string_view value);
  PgParams& Int2(int16_t value);
  PgParams& Int4(int32_t value);
  PgParams& Int8(int64_t value);
  PgParams& ByteaArray(const std::vector<std::string_view>& items);
  PgParams& Int2Array(const std::vector<int16_t>& items);
  PgParams& Int8Array(const std::vector<int64_t>& items);

  int count() const { return static_cast<int>(storage_.size()); }
  const char* const* values() const;
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  void Push(std::string bytes);
  std::vector<std::string> storage_;
  mutable std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// Decoders of binary-format result fields.
int64_t DecodeInt8(const char* data);

}  // namespace papr::storage::pg
