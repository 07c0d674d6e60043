#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/db.h"
#include "storage/memory_record.h"

namespace papr::storage {

struct ScoredMemory {
  MemoryRecord memory;
  double score = 0;
};

//! Memories and their BM25 search index. A memory and its postings and the user's corpus
//! statistics are written in one atomic batch. Thread-safe: writes to the same memory id are
//! serialised by striped locks so that stored-twice stays stored-once.
class MemoryStore {
 public:
  explicit MemoryStore(Db* db);
  ~MemoryStore();

  // Stores `record` (keyed by user_id, id) with its index entries. Idempotent: when a memory
  // with this id already exists for this user nothing changes and false is returned; true when
  // it was written now.
  // With `sync` false the write is not fsynced on its own (a later synced write of the
  // caller, e.g. the engine's activity completion, makes it durable).
  Result<bool> Put(const MemoryRecord& record, bool sync = true);
  // NotFound when absent for this user (another user's id is absent too).
  Result<MemoryRecord> Get(std::string_view user_id, std::string_view memory_id) const;
  // NotFound when absent. Removes postings and adjusts statistics atomically.
  Status Delete(std::string_view user_id, std::string_view memory_id);
  // BM25 (k1 = 1.2, b = 0.75) over the user's memories, best first, at most `max_results`.
  Result<std::vector<ScoredMemory>> Search(std::string_view user_id, std::string_view query,
                                           size_t max_results) const;
  // Number of memories the user has.
  Result<int64_t> CountForUser(std::string_view user_id) const;

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace papr::storage
