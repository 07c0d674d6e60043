#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace rocksdb {
class MergeOperator;
}  // namespace rocksdb

namespace papr::storage::internal {

// A counter pair value: two 8-byte little-endian two's-complement int64 (a, then b), 16 bytes
// in all. Stored in kUserStats, kUsage and kMeta counter keys and merged by addition.
constexpr size_t kCounterPairSize = 16;

std::string EncodeCounterPair(int64_t a, int64_t b);
// False unless `value` is exactly kCounterPairSize bytes.
bool DecodeCounterPair(std::string_view value, int64_t* a, int64_t* b);

// The merge operator of the counter tables: adds operands component-wise (wrapping on
// overflow). A malformed operand or base value fails the merge, which RocksDB reports as
// Corruption. Stateless and thread-safe.
std::shared_ptr<rocksdb::MergeOperator> NewCounterPairAddOperator();

}  // namespace papr::storage::internal
