#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "search/merge_policy.h"
#include "storage/db.h"
#include "storage/memory_index.h"

namespace papr::search {

//! Options of the search index. Plain struct, one comment per field.
struct SearchIndexOptions {
  // How often the indexer looks for queued memories when nobody waits for it: the bound on
  // how long a batch memory takes to become searchable (plus one pass). Default: 50 ms.
  int poll_ms = 50;
  // Most queued memories taken in by one pass (one segment per user and scope). Default: 20,000.
  size_t max_docs_per_pass = 20'000;
  // How long a single add waits to be searchable before answering anyway (it is durable
  // either way). Default: 10 s.
  int await_timeout_ms = 10'000;
  // A reserved queue sequence not seen in the queue after this long is given up (its batch was
  // never committed, or commits late: a full queue scan every full_scan_ms still finds it).
  // Default: 5 s and 30 s.
  int reservation_ttl_ms = 5'000;
  int full_scan_ms = 30'000;
  // Run the indexer and merger threads. Tests drive passes by hand with false. Default: true.
  bool background = true;
  // Chooses merges. Default (null): TieredMergePolicy with its defaults.
  std::shared_ptr<const MergePolicy> merge_policy;
  // Cluster mode: nodes share the store and one writes the index, with this fence on every
  // commit, while it returns one (the owner of shard 0); the others follow its catalog log
  // (search/catalog_log.h) and queue their deletions for it. Null (default): the only node.
  std::function<std::optional<storage::Fence>()> writer_fence;
};

//! The BM25 search index of every user's memories, as immutable segments in kSegments. It is
//! derived state: memories reach it through kIndexQueue rows written with them, a background
//! indexer turns queued memories into segments and, in the same atomic write, deletes their
//! queue rows (so each memory is taken in exactly once, also across kill -9), and a merger
//! merges segments as its MergePolicy says. Deletes write tombstones with the memory's
//! deletion. Lost or corrupt segments are rebuilt from the memories on open. Searches read an
//! immutable snapshot and never wait for writers. In cluster mode (writer_fence) one node
//! writes and the others follow; a follower's search sees what the writer has taken in.
//! Thread-safe.
class SearchIndex final : public storage::MemoryIndex {
 public:
  static Result<std::unique_ptr<SearchIndex>> Open(storage::Db* db,
                                                   SearchIndexOptions options = {});
  ~SearchIndex() override;
  // Stops the background threads (idempotent). REQUIRES: before the Db closes.
  void Stop();

  uint64_t ReserveQueueSequence() override;
  Status AwaitIndexed(uint64_t sequence) override;
  Status CommitDelete(const storage::MemoryRecord& record, storage::WriteBatch* batch) override;
  void StageDelete(const storage::MemoryRecord& record, storage::WriteBatch* batch) override;
  Result<std::vector<storage::IndexHit>> Search(
      std::string_view user_id, std::string_view query, size_t max_results,
      std::optional<std::string_view> scope = std::nullopt) const override;

  // One indexer pass: takes in up to max_docs_per_pass queued memories; how many it took.
  // A cluster follower instead applies the writer's new catalog changes (and answers 0).
  Result<size_t> IndexQueued();
  // One merge if the policy asks for one in any scope; whether it merged.
  Result<bool> MergeOnce();
  // Segments of the user (all scopes), for tests and stats.
  size_t SegmentCount(std::string_view user_id) const;

  struct Rep;

 private:
  explicit SearchIndex(std::unique_ptr<Rep> rep);
  Result<size_t> IndexFrom(uint64_t floor, std::vector<uint64_t>* sequences);
  std::unique_ptr<Rep> rep_;
};

}  // namespace papr::search
