#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "search/catalog_log.h"
#include "search/deletions.h"
#include "search/search_index.h"
#include "search/segment.h"

namespace papr::search {

//! One published segment with its deletions (both immutable; a delete publishes a copy).
struct SegmentView {
  uint64_t id = 0;
  std::string scope;  // external_user_id, "" when none
  std::shared_ptr<const Segment> segment;
  std::shared_ptr<const Deletions> deletions;
};

//! All segments of one user, every scope. Immutable once published.
struct UserIndex {
  std::vector<SegmentView> segments;
};

using Clock = std::chrono::steady_clock;

struct SearchIndex::Rep {
  storage::Db* db = nullptr;
  SearchIndexOptions options;

  // The published catalog: swapped under snapshot_mu, read by searches without other locks.
  mutable std::mutex snapshot_mu;
  std::unordered_map<std::string, std::shared_ptr<const UserIndex>> catalog;

  // Serialises every change of the index (indexer commits, deletes, merge commits).
  std::mutex write_mu;
  // Deletes of memories no published segment held yet (guarded by write_mu): the pass being
  // built may hold them, so its commit applies them.
  std::set<std::pair<std::string, std::string>> unindexed_deletes;
  uint64_t next_segment_id = 1;
  // A write of the index failed, so what is stored may differ from what is published (the
  // outcome of a lost commit is unknown): the next pass reloads the catalog from the store.
  bool reload_due = false;  // guarded by write_mu
  // Cluster mode (guarded by write_mu): the fence this node writes with while it is the
  // writer, and the last catalog change it wrote or applied.
  std::optional<storage::Fence> writing_with;
  uint64_t log_version = 0;

  // The queue (guarded by queue_mu): reserved sequences not yet taken in, by reservation time.
  std::mutex queue_mu;
  std::condition_variable wake_cv;     // wakes the indexer
  std::condition_variable indexed_cv;  // a pass finished
  std::condition_variable merge_cv;    // wakes the merger
  bool wake = false;
  bool merge_wanted = false;
  bool stopping = false;
  uint64_t next_sequence = 1;
  std::map<uint64_t, Clock::time_point> outstanding;
  Clock::time_point last_full_scan;
  uint64_t passes_begun = 0;  // indexer passes started
  uint64_t passes_done = 0;   // the last pass that ended (in order: one indexer thread)
  bool full_scan_due = true;

  std::thread indexer;
  std::thread merger;

  std::shared_ptr<const UserIndex> Snapshot(const std::string& user_id) const;
  void Publish(const std::string& user_id, std::shared_ptr<const UserIndex> index);
  std::vector<std::pair<std::string, std::shared_ptr<const UserIndex>>> SnapshotAll() const;

  // index_loader.cc
  // Reads every segment and publishes them as the catalog. `tolerant`: a tombstone whose
  // segment is absent is skipped (a follower's load races the writer's merges), not corrupt.
  Status Load(bool tolerant = false);
  // Reloads the catalog if a failed write left it in doubt. REQUIRES: write_mu held.
  Status ReloadIfDue();
  Status Rebuild();
  Status CheckComplete(bool* complete);
  // catalog_follower.cc (cluster mode)
  bool clustered() const { return options.writer_fence != nullptr; }
  // Claims a queue sequence prefix no other node uses: sequences are prefix << 32 | n.
  Status ClaimSequencePrefix();
  // Whether this node is the writer now; one that just became it first reloads the catalog.
  // REQUIRES: write_mu held.
  Result<bool> TakeWriterRole();
  // The log head, then every segment: entries after the head are applied on top.
  Status LoadFollowingLog();  // REQUIRES: write_mu held
  // Fences `batch` and adds `change` to it as the next log entry. REQUIRES: write_mu held.
  void StageChange(const CatalogChange& change, storage::WriteBatch* batch);
  // A follower's pass: applies the entries the writer added since the last; the sequences
  // they took in go to `taken_in`. REQUIRES: write_mu held.
  Status Follow(std::vector<uint64_t>* taken_in);
  Status ApplyChange(const CatalogChange& change);
  // index_pass.cc
  // Starts a pass: its number and the queue sequence to scan from.
  uint64_t BeginPass(uint64_t* floor);
  // `ok`: the pass committed (a failed one makes the next a full queue scan).
  void EndPass(uint64_t pass, const std::vector<uint64_t>& taken_in, bool ok);
  // Waits (bounded) for a pass that starts after this call, when memories may be queued.
  void AwaitCatchUp();
  // merge_pass.cc
  Status Merge(const std::string& user_id, const std::vector<SegmentView>& inputs);
  // search_index_threads.cc
  void IndexerLoop(SearchIndex* self);
  void MergerLoop(SearchIndex* self);
};

}  // namespace papr::search
