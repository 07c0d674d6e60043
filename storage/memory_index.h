#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/db.h"
#include "storage/memory_record.h"

namespace papr::storage {

//! One search hit: a memory id and its BM25 score.
struct IndexHit {
  std::string memory_id;
  double score = 0;
};

//! The search index as MemoryStore sees it (search::SearchIndex implements it; storage does
//! not depend on search). A stored memory reaches the index through a kIndexQueue row that
//! MemoryStore writes in the memory's own batch; the index takes queued memories in in the
//! background. Thread-safe.
class MemoryIndex {
 public:
  virtual ~MemoryIndex() = default;
  // A fresh sequence number for the kIndexQueue row of a memory about to be staged.
  virtual uint64_t ReserveQueueSequence() = 0;
  // Returns once the queue row `sequence` (already committed) is searchable, or after a
  // bounded wait (the memory is durable either way and becomes searchable soon after).
  virtual Status AwaitIndexed(uint64_t sequence) = 0;
  // Commits `batch`, which deletes `record`, together with the index's own writes for the
  // deletion; once it returns no search returns the memory.
  virtual Status CommitDelete(const MemoryRecord& record, WriteBatch* batch) = 0;
  // Adds to `batch` a queued deletion of `record` (as stored now) that the indexer applies:
  // for writes that delete or replace many memories at once. Searches re-read each hit, so a
  // committed deletion is never returned even before the indexer has applied it.
  virtual void StageDelete(const MemoryRecord& record, WriteBatch* batch) = 0;
  // BM25 top `max_results` of the user's memories for `query`, best first, equal scores by id.
  // `scope`: only the memories of that end user (external_user_id; "" is those without one),
  // ranked with that end user's statistics alone.
  virtual Result<std::vector<IndexHit>> Search(
      std::string_view user_id, std::string_view query, size_t max_results,
      std::optional<std::string_view> scope = std::nullopt) const = 0;
};

}  // namespace papr::storage
