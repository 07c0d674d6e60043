#include "storage/batch.h"

#include <utility>

namespace papr::storage {

void Batch::Add(Op op) {
  bytes_ += op.key.size() + op.value.size();
  has_inserts_ = has_inserts_ || op.kind == OpKind::kInsert;
  ops_.push_back(std::move(op));
}

void Batch::Put(Table table, std::string_view key, std::string_view value) {
  Add(Op{OpKind::kPut, table, std::string(key), std::string(value)});
}

void Batch::Delete(Table table, std::string_view key) {
  Add(Op{OpKind::kDelete, table, std::string(key), {}});
}

void Batch::Insert(Table table, std::string_view key, std::string_view value) {
  Add(Op{OpKind::kInsert, table, std::string(key), std::string(value)});
}

void Batch::AddCounters(Table table, std::string_view key, int64_t delta_a, int64_t delta_b) {
  Add(Op{OpKind::kAddCounters, table, std::string(key), {}, delta_a, delta_b});
}

void Batch::Append(const Batch& other) {
  for (const Op& op : other.ops_) Add(op);
  closed_.insert(closed_.end(), other.closed_.begin(), other.closed_.end());
}

}  // namespace papr::storage
