#include "engine/internal/closed_row_cache.h"

namespace papr::engine::internal {

void ClosedRowCache::Put(const std::string& id, std::string row, int64_t now_ms) {
  if (row.size() > max_bytes_ || max_entries_ == 0) return;
  std::lock_guard lock(mu_);
  auto [it, inserted] = rows_.try_emplace(id);
  if (!inserted) bytes_ -= it->second.row.size();
  bytes_ += row.size();
  it->second = Entry{std::move(row), now_ms, next_seq_};
  order_.emplace_back(id, next_seq_++);
  Trim();
}

std::optional<std::string> ClosedRowCache::Get(const std::string& id, int64_t now_ms) const {
  std::lock_guard lock(mu_);
  auto it = rows_.find(id);
  if (it == rows_.end() || now_ms - it->second.put_ms > ttl_ms_) return std::nullopt;
  return it->second.row;
}

void ClosedRowCache::Erase(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = rows_.find(id);
  if (it == rows_.end()) return;
  bytes_ -= it->second.row.size();
  rows_.erase(it);  // its order_ entry is skipped when it comes up
}

void ClosedRowCache::Trim() {
  // order_ may hold puts since overwritten or erased: only the one whose seq matches counts.
  while (!order_.empty() && (rows_.size() > max_entries_ || bytes_ > max_bytes_ ||
                             order_.size() > 2 * max_entries_)) {
    auto [id, seq] = std::move(order_.front());
    order_.pop_front();
    auto it = rows_.find(id);
    if (it == rows_.end() || it->second.seq != seq) continue;
    bytes_ -= it->second.row.size();
    rows_.erase(it);
  }
}

}  // namespace papr::engine::internal
