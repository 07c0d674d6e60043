#include "storage/postgres/pg_pool.h"

#include <chrono>
#include <utility>

namespace papr::storage::pg {

PgPool::PgPool(PgStoreOptions options) : options_(std::move(options)) {
  int size = options_.pool_size < 1 ? 1 : options_.pool_size;
  conns_.resize(size);
  for (int i = size - 1; i >= 0; --i) free_slots_.push_back(i);
}

PgPool::~PgPool() = default;

PgPool::Borrowed::Borrowed(Borrowed&& other) noexcept
    : pool_(other.pool_), slot_(other.slot_) {
  other.pool_ = nullptr;
}

PgPool::Borrowed::~Borrowed() {
  if (pool_ != nullptr) pool_->Return(slot_);
}

Result<int> PgPool::TakeSlot() {
  std::unique_lock<std::mutex> lock(mu_);
  auto wait = std::chrono::milliseconds(options_.statement_timeout_ms > 0
                                            ? options_.statement_timeout_ms
                                            : 30000);
  if (!freed_.wait_for(lock, wait, [&] { return !free_slots_.empty(); })) {
    return Status::ResourceExhausted("all " + std::to_string(conns_.size()) +
                                     " postgres connections stayed busy");
  }
  int slot = free_slots_.back();
  free_slots_.pop_back();
  return slot;
}

void PgPool::Return(int slot) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    free_slots_.push_back(slot);
  }
  freed_.notify_one();
}

// Runs outside mu_: the slot is this borrower's alone.
Status PgPool::EnsureConnected(int slot) {
  std::unique_ptr<PgConnection>& conn = conns_[slot];
  if (conn != nullptr && conn->Healthy()) return Status::Ok();
  conn.reset();
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> fresh, PgConnection::Connect(options_));
  RETURN_IF_ERROR(fresh->Prepare());
  conn = std::move(fresh);
  return Status::Ok();
}

Result<PgPool::Borrowed> PgPool::Borrow() {
  ASSIGN_OR_RETURN(int slot, TakeSlot());
  Borrowed borrowed(this, slot);  // returns the slot on every error path
  RETURN_IF_ERROR(EnsureConnected(slot));
  return borrowed;
}

}  // namespace papr::storage::pg
