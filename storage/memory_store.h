#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/db.h"
#include "storage/memory_index.h"
#include "storage/memory_record.h"

namespace papr::storage {

struct ScoredMemory {
  MemoryRecord memory;
  double score = 0;
};

//! Memories, searchable through the attached MemoryIndex. A memory, its kIndexQueue row (from
//! which the index takes it in) and the user's corpus statistics are written in one atomic
//! batch. Thread-safe. A memory is created by a WriteBatch::Insert, so of concurrent stores of
//! one id (threads, or MemoryStores of other processes on the same store) exactly one writes it
//! and the others see it exists: stored-twice stays stored-once. Deletes of one id are
//! serialised by striped locks within this process only.
class MemoryStore {
 public:
  explicit MemoryStore(Db* db);
  ~MemoryStore();

  // The search index (not owned; outlives this store). Without one, Search fails and queued
  // memories wait for the server's index.
  void AttachIndex(MemoryIndex* index);

  // Stores `record` (keyed by user_id, id) and queues it for the index; returns once it is
  // searchable. Idempotent: when a memory with this id already exists for this user nothing
  // changes and false is returned; true when it was written now.
  Result<bool> Put(const MemoryRecord& record);
  // Adds the writes that store `record` to `batch` instead of writing them: the caller
  // commits them atomically with its own (the engine commits a memory together with its
  // activity's completion event). The caller has found the id absent (Get): the writes create
  // it with an Insert, so a batch that carries them fails whole with AlreadyExists if another
  // writer stored the id since (for batch memories the engine's attempt fencing leaves no such
  // writer). No read of its own: on a remote store that is a round trip per memory.
  Status PrepareWrite(const MemoryRecord& record, WriteBatch* batch) const;
  // NotFound when absent for this user (another user's id is absent too).
  Result<MemoryRecord> Get(std::string_view user_id, std::string_view memory_id) const;
  // NotFound when absent. Removes the memory from the index and adjusts statistics atomically.
  Status Delete(std::string_view user_id, std::string_view memory_id);
  // Applies `change` to the stored memory and stores the result (id, owner and end user stay);
  // when the content changed, the old content leaves the index and the new one enters it in
  // the same commit, and this returns once the new content is searchable. Updates and deletes
  // of one id are serialised within this process. NotFound when absent.
  Result<MemoryRecord> Update(std::string_view user_id, std::string_view memory_id,
                              const std::function<Status(MemoryRecord*)>& change);
  // Deletes up to `max` of the user's memories (only end user `scope`'s when given) in one
  // atomic write and returns how many; 0 once none is left. Call until 0 to delete all.
  Result<int64_t> DeleteSome(std::string_view user_id, std::optional<std::string_view> scope,
                             size_t max);
  // BM25 (k1 = 1.2, b = 0.75) over the user's memories, best first, at most `max_results`.
  // `scope`: only those of that end user (MemoryIndex::Search).
  Result<std::vector<ScoredMemory>> Search(
      std::string_view user_id, std::string_view query, size_t max_results,
      std::optional<std::string_view> scope = std::nullopt) const;
  // Number of memories the user has.
  Result<int64_t> CountForUser(std::string_view user_id) const;

 private:
  struct Rep;
  Status StageWrite(const MemoryRecord& record, WriteBatch* batch, uint64_t* sequence) const;
  std::unique_ptr<Rep> rep_;
};

}  // namespace papr::storage
