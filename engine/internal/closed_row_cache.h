#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace papr::engine::internal {

//! The execution rows of the executions this engine closed last, as their closing commit wrote
//! them. A closed row changes only by retention, reset or terminate, which erase it here; the
//! time limit bounds how stale another writer's change (a cluster peer's) can be seen. Lets the
//! reads that follow a close (the `?wait=` answer, admission, status polls) skip the store:
//! on PostgreSQL that was four round trips per batch. Bounded in entries and bytes.
//! Thread-safe.
class ClosedRowCache {
 public:
  ClosedRowCache(size_t max_entries, size_t max_bytes, int64_t ttl_ms)
      : max_entries_(max_entries), max_bytes_(max_bytes), ttl_ms_(ttl_ms) {}

  void Put(const std::string& id, std::string row, int64_t now_ms);
  // The row put for `id` within the time limit, if it is still here.
  std::optional<std::string> Get(const std::string& id, int64_t now_ms) const;
  void Erase(const std::string& id);

 private:
  struct Entry {
    std::string row;
    int64_t put_ms;
    uint64_t seq;  // which put of `order_` this is
  };
  // REQUIRES: mu_ held. Drops the oldest puts until within bounds.
  void Trim();

  const size_t max_entries_;
  const size_t max_bytes_;
  const int64_t ttl_ms_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> rows_;
  std::deque<std::pair<std::string, uint64_t>> order_;  // (id, seq), oldest put first
  uint64_t next_seq_ = 0;
  size_t bytes_ = 0;
};

}  // namespace papr::engine::internal
