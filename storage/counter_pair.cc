#include "storage/internal/counter_pair.h"

#include <rocksdb/merge_operator.h>

namespace papr::storage::internal {
namespace {

void PutFixed64LE(std::string* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst->push_back(static_cast<char>((v >> (i * 8)) & 0xff));
}

uint64_t GetFixed64LE(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

//! Adds counter pairs. Associative, so RocksDB may combine operands in any grouping.
class CounterPairAddOperator : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice& /*key*/, const rocksdb::Slice* existing_value,
             const rocksdb::Slice& value, std::string* new_value,
             rocksdb::Logger* /*logger*/) const override {
    int64_t a = 0;
    int64_t b = 0;
    if (existing_value != nullptr &&
        !DecodeCounterPair(std::string_view(existing_value->data(), existing_value->size()), &a,
                           &b)) {
      return false;
    }
    int64_t da = 0;
    int64_t db = 0;
    if (!DecodeCounterPair(std::string_view(value.data(), value.size()), &da, &db)) return false;
    // Unsigned addition: wraps instead of signed-overflow UB.
    *new_value = EncodeCounterPair(
        static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(da)),
        static_cast<int64_t>(static_cast<uint64_t>(b) + static_cast<uint64_t>(db)));
    return true;
  }

  // Persisted in the OPTIONS file; never rename.
  const char* Name() const override { return "papr.CounterPairAdd"; }
};

}  // namespace

std::string EncodeCounterPair(int64_t a, int64_t b) {
  std::string out;
  out.reserve(kCounterPairSize);
  PutFixed64LE(&out, static_cast<uint64_t>(a));
  PutFixed64LE(&out, static_cast<uint64_t>(b));
  return out;
}

bool DecodeCounterPair(std::string_view value, int64_t* a, int64_t* b) {
  if (value.size() != kCounterPairSize) return false;
  *a = static_cast<int64_t>(GetFixed64LE(value.data()));
  *b = static_cast<int64_t>(GetFixed64LE(value.data() + 8));
  return true;
}

std::shared_ptr<rocksdb::MergeOperator> NewCounterPairAddOperator() {
  return std::make_shared<CounterPairAddOperator>();
}

}  // namespace papr::storage::internal
