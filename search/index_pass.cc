// The indexer pass: queued memories -> one new segment per user and scope, committed with the
// deletion of their queue rows in one write.

#include <map>
#include <set>

#include "search/internal/search_index_rep.h"
#include "search/segment_builder.h"
#include "storage/keys.h"
#include "storage/memory_record.h"
#include "storage/text_analysis.h"

namespace papr::search {
namespace {

// How long a search waits for the indexer to take in what was committed before it.
constexpr int kCatchUpWaitMs = 1000;

struct QueuedMemory {
  uint64_t sequence = 0;
  std::string user_id;
  std::string memory_id;
  std::optional<std::string> tombstone;  // a queued deletion
  std::string content_hash;              // a memory row's: its content then ("" in old rows)
};

Result<std::vector<QueuedMemory>> ReadQueue(storage::Db* db, uint64_t floor, size_t max) {
  std::vector<QueuedMemory> rows;
  auto cursor = db->NewCursor(storage::Table::kIndexQueue);
  for (cursor->Seek(storage::IndexQueueKey(floor)); cursor->Valid() && rows.size() < max;
       cursor->Next()) {
    QueuedMemory row;
    if (!storage::DecodeIndexQueueKey(cursor->key(), &row.sequence) ||
        !storage::DecodeIndexQueueValue(cursor->value(), &row.user_id, &row.memory_id,
                                        &row.tombstone, &row.content_hash)) {
      return Status::Corruption("malformed index queue row");
    }
    rows.push_back(std::move(row));
  }
  RETURN_IF_ERROR(cursor->status());
  return rows;
}

//! The docs of one new segment.
struct PendingSegment {
  std::vector<SourceDoc> docs;
  std::shared_ptr<const Segment> segment;
  std::string bytes;
};
using PendingSegments = std::map<std::pair<std::string, std::string>, PendingSegment>;

Result<PendingSegments> BuildPending(storage::Db* db, const std::vector<QueuedMemory>& rows) {
  PendingSegments pending;
  std::vector<const QueuedMemory*> memories;
  for (const auto& row : rows) {
    if (!row.tombstone) memories.push_back(&row);
  }
  std::vector<std::string> keys;  // read in one round trip on a remote store
  keys.reserve(memories.size());
  for (const auto* row : memories) keys.push_back(storage::MemoryKey(row->user_id, row->memory_id));
  ASSIGN_OR_RETURN(auto values, db->MultiGet(storage::Table::kMemories, keys));
  std::set<std::pair<std::string_view, std::string_view>> taken;  // an id once per pass
  for (size_t i = 0; i < memories.size(); ++i) {
    const QueuedMemory& row = *memories[i];
    if (!values[i].has_value()) continue;  // deleted before it was taken in
    ASSIGN_OR_RETURN(storage::MemoryRecord record, storage::DecodeMemoryRecord(*values[i]));
    // Updated since this row was queued: the update's own row takes the content in.
    if (!row.content_hash.empty() && row.content_hash != record.content_hash) continue;
    if (!taken.emplace(row.user_id, row.memory_id).second) continue;
    pending[{row.user_id, record.external_user_id}].docs.push_back(
        SourceDoc{row.memory_id, std::move(record.content)});
  }
  for (auto& [key, p] : pending) {
    p.bytes = BuildSegment(p.docs);
    ASSIGN_OR_RETURN(p.segment, Segment::Open(p.bytes));
  }
  return pending;
}

// Tombstones, in the new segment, for memories deleted while it was being built.
std::shared_ptr<const Deletions> ApplyUnindexedDeletes(
    const std::set<std::pair<std::string, std::string>>& deletes, const std::string& user_id,
    const std::string& scope, uint64_t segment_id, const PendingSegment& p,
    storage::WriteBatch* batch) {
  auto deletions = std::make_shared<Deletions>(p.segment->doc_count());
  for (auto it = deletes.lower_bound({user_id, ""}); it != deletes.end() && it->first == user_id;
       ++it) {
    auto doc = p.segment->FindDoc(it->second);
    if (!doc.has_value()) continue;
    Tombstone tombstone;
    tombstone.terms = storage::Tokenize(p.docs[*doc].content);
    tombstone.doc_len = static_cast<uint32_t>(tombstone.terms.size());
    std::sort(tombstone.terms.begin(), tombstone.terms.end());
    tombstone.terms.erase(std::unique(tombstone.terms.begin(), tombstone.terms.end()),
                          tombstone.terms.end());
    std::string encoded = EncodeTombstone(tombstone);
    batch->Put(storage::Table::kSegments,
               storage::SegmentTombstoneKey(user_id, scope, segment_id, *doc), encoded);
    deletions->Add(*doc, std::move(encoded), tombstone);
  }
  return deletions;
}

}  // namespace

uint64_t SearchIndex::Rep::BeginPass(uint64_t* floor) {
  std::lock_guard<std::mutex> lock(queue_mu);
  uint64_t pass = ++passes_begun;
  auto now = Clock::now();
  if (full_scan_due || now - last_full_scan > std::chrono::milliseconds(options.full_scan_ms)) {
    full_scan_due = false;
    last_full_scan = now;
    *floor = 0;
    return pass;
  }
  auto ttl = std::chrono::milliseconds(options.reservation_ttl_ms);
  while (!outstanding.empty() && now - outstanding.begin()->second > ttl) {
    outstanding.erase(outstanding.begin());
  }
  *floor = outstanding.empty() ? next_sequence : outstanding.begin()->first;
  return pass;
}

void SearchIndex::Rep::EndPass(uint64_t pass, const std::vector<uint64_t>& taken_in, bool ok) {
  {
    std::lock_guard<std::mutex> lock(queue_mu);
    // After a failed pass the reservations of what it missed may expire before the store is
    // back: scan the whole queue next time.
    if (!ok) full_scan_due = true;
    for (uint64_t s : taken_in) outstanding.erase(s);
    passes_done = pass;
    if (!taken_in.empty()) merge_wanted = true;
  }
  indexed_cv.notify_all();
  if (!taken_in.empty()) merge_cv.notify_all();
}

void SearchIndex::Rep::AwaitCatchUp() {
  if (!options.background) return;
  std::unique_lock<std::mutex> lock(queue_mu);
  if (outstanding.empty()) return;
  uint64_t target = passes_begun + 1;
  wake = true;
  wake_cv.notify_all();
  indexed_cv.wait_for(lock, std::chrono::milliseconds(kCatchUpWaitMs),
                      [&] { return stopping || passes_done >= target; });
}

Result<size_t> SearchIndex::IndexQueued() {
  uint64_t floor = 0;
  uint64_t pass = rep_->BeginPass(&floor);
  std::vector<uint64_t> taken_in;
  Result<size_t> taken = 0;
  bool writer = true;
  if (rep_->clustered()) {
    std::lock_guard<std::mutex> lock(rep_->write_mu);
    Result<bool> role = rep_->TakeWriterRole();
    writer = role.ok() && *role;
    if (!role.ok()) taken = role.status();
    if (role.ok() && !writer) {
      Status followed = rep_->Follow(&taken_in);
      if (!followed.ok()) taken = followed;
    }
    floor = 0;  // other nodes' sequences have other prefixes: the writer reads the whole queue
  }
  if (writer && taken.ok()) taken = IndexFrom(floor, &taken_in);
  rep_->EndPass(pass, taken.ok() ? taken_in : std::vector<uint64_t>{}, taken.ok());
  return taken;
}

namespace {

//! What one pass changes: user indexes copied on first change, published after the commit.
struct PassChanges {
  std::map<std::string, std::shared_ptr<UserIndex>> users;
  CatalogChange log;

  UserIndex* User(const SearchIndex::Rep& r, const std::string& user_id) {
    auto& index = users[user_id];
    if (!index) {
      auto current = r.Snapshot(user_id);
      index = current ? std::make_shared<UserIndex>(*current) : std::make_shared<UserIndex>();
    }
    return index.get();
  }
};

// Queued deletions (cluster mode): a tombstone for each live doc of the memory.
Status StageQueuedDeletions(const SearchIndex::Rep& r, const std::vector<QueuedMemory>& rows,
                            PassChanges* changes, storage::WriteBatch* batch) {
  for (const auto& row : rows) {
    Tombstone tombstone;
    if (!row.tombstone) continue;
    if (!DecodeTombstone(*row.tombstone, &tombstone)) {
      return Status::Corruption("malformed queued deletion");
    }
    for (auto& view : changes->User(r, row.user_id)->segments) {
      auto doc = view.segment->FindDoc(row.memory_id);
      if (!doc.has_value() || view.deletions->Contains(*doc)) continue;
      std::string key = storage::SegmentTombstoneKey(row.user_id, view.scope, view.id, *doc);
      batch->Put(storage::Table::kSegments, key, *row.tombstone);
      changes->log.added.push_back(std::move(key));
      auto deletions = std::make_shared<Deletions>(*view.deletions);
      deletions->Add(*doc, *row.tombstone, tombstone);
      view.deletions = std::move(deletions);
    }
  }
  return Status::Ok();
}

}  // namespace

Result<size_t> SearchIndex::IndexFrom(uint64_t floor, std::vector<uint64_t>* sequences) {
  Rep& r = *rep_;
  ASSIGN_OR_RETURN(std::vector<QueuedMemory> rows,
                   ReadQueue(r.db, floor, r.options.max_docs_per_pass));
  for (const auto& row : rows) sequences->push_back(row.sequence);
  if (rows.empty()) return 0;
  ASSIGN_OR_RETURN(PendingSegments pending, BuildPending(r.db, rows));
  std::lock_guard<std::mutex> lock(r.write_mu);
  RETURN_IF_ERROR(r.ReloadIfDue());
  if (r.clustered() && !r.writing_with) {  // lost the role meanwhile: the next writer takes them
    sequences->clear();
    return 0;
  }
  storage::WriteBatch batch;
  PassChanges changes;
  RETURN_IF_ERROR(StageQueuedDeletions(r, rows, &changes, &batch));
  for (auto& [key, p] : pending) {
    const auto& [user_id, scope] = key;
    uint64_t id = r.next_segment_id++;
    std::string segment_key = storage::SegmentKey(user_id, scope, id);
    batch.Put(storage::Table::kSegments, segment_key, p.bytes);
    changes.log.added.push_back(std::move(segment_key));
    auto deletions = ApplyUnindexedDeletes(r.unindexed_deletes, user_id, scope, id, p, &batch);
    changes.User(r, user_id)->segments.push_back(
        SegmentView{id, scope, p.segment, std::move(deletions)});
  }
  for (uint64_t s : *sequences) {
    batch.Delete(storage::Table::kIndexQueue, storage::IndexQueueKey(s));
  }
  if (r.clustered()) {
    changes.log.taken_in = *sequences;
    r.StageChange(changes.log, &batch);
  }
  if (Status written = r.db->Write(batch); !written.ok()) {
    r.reload_due = true;
    return written;
  }
  for (auto& [user_id, index] : changes.users) r.Publish(user_id, std::move(index));
  r.unindexed_deletes.clear();
  size_t taken = 0;
  for (const auto& [key, p] : pending) taken += p.docs.size();
  return taken;
}

}  // namespace papr::search
