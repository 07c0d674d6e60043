#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/db.h"

namespace papr::storage {

//! The writes of one Store::Write, applied atomically and in order (for one key the last op
//! wins). Not thread-safe. Backend-neutral: ops are kept as plain values.
class Batch {
 public:
  enum class OpKind : uint8_t { kPut, kDelete, kInsert, kAddCounters };
  struct Op {
    OpKind kind;
    Table table;
    std::string key;
    std::string value;  // kPut, kInsert
    int64_t delta_a = 0;  // kAddCounters
    int64_t delta_b = 0;
  };

  void Put(Table table, std::string_view key, std::string_view value);
  void Delete(Table table, std::string_view key);
  // Put-if-absent: the whole batch fails with AlreadyExists when `key` exists before the batch
  // (or is inserted twice by it). Atomic against concurrent Inserts of the same key: exactly
  // one of them succeeds. (On RocksDB, against a concurrent Put of the same key it is not:
  // callers use Insert for create-once keys, which nothing else writes.)
  void Insert(Table table, std::string_view key, std::string_view value);
  // Adds signed deltas to a pair of int64 counters, read by GetCounters. Concurrent adds all
  // count. On Postgres counters are rows of their own table: a key is a counter or a value,
  // never both.
  void AddCounters(Table table, std::string_view key, int64_t delta_a, int64_t delta_b);
  void SetFence(Fence fence) { fence_ = fence; }
  // As WriteBatch::AnnounceClosed: a notice sent when the batch commits (PostgreSQL only).
  void AnnounceClosed(std::string_view workflow_id) { closed_.emplace_back(workflow_id); }
  // Appends every op of `other` (after this batch's own). Keeps this batch's fence/no-sync.
  void Append(const Batch& other);

  // The batch need not be durable on its own: a later synced write makes it durable, and
  // commits are durable in order (RocksDB: one shared WAL; Postgres: the commit is
  // `synchronous_commit = off`, and a later synced commit flushes the WAL up to itself). For
  // effects whose completion is recorded by such a later write.
  void SetNoSync() { no_sync_ = true; }

  const std::vector<Op>& ops() const { return ops_; }
  const std::optional<Fence>& fence() const { return fence_; }
  const std::vector<std::string>& closed() const { return closed_; }
  bool no_sync() const { return no_sync_; }
  bool has_inserts() const { return has_inserts_; }
  size_t Count() const { return ops_.size(); }
  // Bytes of keys and values.
  size_t ByteSize() const { return bytes_; }

 private:
  void Add(Op op);
  std::vector<Op> ops_;
  std::optional<Fence> fence_;
  std::vector<std::string> closed_;
  bool no_sync_ = false;
  bool has_inserts_ = false;
  size_t bytes_ = 0;
};

}  // namespace papr::storage
