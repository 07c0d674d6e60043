#include "storage/internal/counter_pair.h"
#include "storage/internal/write_batch_rep.h"

namespace papr::storage {

using internal::OpTag;

WriteBatch::WriteBatch() : rep_(std::make_unique<Rep>()) {}
WriteBatch::~WriteBatch() = default;
WriteBatch::WriteBatch(WriteBatch&&) noexcept = default;
WriteBatch& WriteBatch::operator=(WriteBatch&&) noexcept = default;

void WriteBatch::Put(Table table, std::string_view key, std::string_view value) {
  rep_->Add(OpTag::kPut, table, key, value);
}

void WriteBatch::Insert(Table table, std::string_view key, std::string_view value) {
  rep_->Add(OpTag::kInsert, table, key, value);
}

void WriteBatch::Delete(Table table, std::string_view key) {
  rep_->Add(OpTag::kDelete, table, key, {});
}

void WriteBatch::AddCounters(Table table, std::string_view key, int64_t delta_a, int64_t delta_b) {
  rep_->Add(OpTag::kMerge, table, key, internal::EncodeCounterPair(delta_a, delta_b));
}

void WriteBatch::Append(const WriteBatch& other) {
  rep_->ops.append(other.rep_->ops);
  rep_->count += other.rep_->count;
  rep_->has_inserts = rep_->has_inserts || other.rep_->has_inserts;
  if (!fence_.has_value()) fence_ = other.fence_;
  closed_.insert(closed_.end(), other.closed_.begin(), other.closed_.end());
}

bool WriteBatch::has_inserts() const { return rep_ && rep_->has_inserts; }
size_t WriteBatch::Count() const { return rep_ ? rep_->count : 0; }
size_t WriteBatch::ByteSize() const { return rep_ ? rep_->ops.size() : 0; }

}  // namespace papr::storage
