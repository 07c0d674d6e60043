#pragma once

// WriteBatch's buffer, read by Db::Write (which knows the column family handles).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/byte_codec.h"
#include "common/status.h"
#include "storage/db.h"

namespace papr::storage {
namespace internal {

// Record tags. The buffer only lives in memory; Db::Write translates it to a
// rocksdb::WriteBatch (an Insert is a Put there, after its key was checked absent).
enum class OpTag : uint8_t { kPut = 1, kDelete = 2, kMerge = 3, kInsert = 4 };

// Calls fn(tag, table, key, value) for each record of a WriteBatch buffer, in order, until fn
// returns an error; Internal for a malformed buffer.
template <typename Fn>
Status ForEachOp(std::string_view ops, Fn&& fn) {
  while (!ops.empty()) {
    if (ops.size() < 2) return Status::Internal("malformed write batch");
    auto tag = static_cast<OpTag>(ops[0]);
    auto table = static_cast<Table>(static_cast<uint8_t>(ops[1]));
    ops.remove_prefix(2);
    std::string_view key;
    std::string_view value;
    if (!GetLengthPrefixed(&ops, &key) ||
        (tag != OpTag::kDelete && !GetLengthPrefixed(&ops, &value))) {
      return Status::Internal("malformed write batch");
    }
    RETURN_IF_ERROR(fn(tag, table, key, value));
  }
  return Status::Ok();
}

}  // namespace internal

// Ops as records: tag(1) table(1) len-prefixed key [len-prefixed value] (no value for kDelete).
struct WriteBatch::Rep {
  std::string ops;
  size_t count = 0;
  bool has_inserts = false;  // only such batches take Db's insert stripes

  void Add(internal::OpTag tag, Table table, std::string_view key, std::string_view value) {
    ops.push_back(static_cast<char>(tag));
    ops.push_back(static_cast<char>(table));
    PutLengthPrefixed(&ops, key);
    if (tag != internal::OpTag::kDelete) PutLengthPrefixed(&ops, value);
    has_inserts = has_inserts || tag == internal::OpTag::kInsert;
    ++count;
  }
};

}  // namespace papr::storage
