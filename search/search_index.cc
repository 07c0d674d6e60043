#include "search/search_index.h"

#include <algorithm>

#include "common/log.h"
#include "search/internal/search_index_rep.h"
#include "search/searcher.h"
#include "storage/keys.h"
#include "storage/text_analysis.h"

namespace papr::search {

std::shared_ptr<const UserIndex> SearchIndex::Rep::Snapshot(const std::string& user_id) const {
  std::lock_guard<std::mutex> lock(snapshot_mu);
  auto it = catalog.find(user_id);
  return it == catalog.end() ? nullptr : it->second;
}

void SearchIndex::Rep::Publish(const std::string& user_id, std::shared_ptr<const UserIndex> index) {
  std::lock_guard<std::mutex> lock(snapshot_mu);
  catalog[user_id] = std::move(index);
}

std::vector<std::pair<std::string, std::shared_ptr<const UserIndex>>>
SearchIndex::Rep::SnapshotAll() const {
  std::lock_guard<std::mutex> lock(snapshot_mu);
  return {catalog.begin(), catalog.end()};
}

SearchIndex::SearchIndex(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

SearchIndex::~SearchIndex() { Stop(); }

Result<std::unique_ptr<SearchIndex>> SearchIndex::Open(storage::Db* db,
                                                       SearchIndexOptions options) {
  auto rep = std::make_unique<Rep>();
  rep->db = db;
  rep->options = std::move(options);
  if (rep->options.merge_policy == nullptr) {
    rep->options.merge_policy = std::make_shared<TieredMergePolicy>();
  }
  ASSIGN_OR_RETURN(auto marker, db->Get(storage::Table::kMeta,
                                        storage::MetaSearchIndexVersionKey()));
  if (!marker.has_value()) RETURN_IF_ERROR(rep->Rebuild());
  if (rep->clustered()) {
    // Other nodes change the index meanwhile: no completeness check (the counts would race).
    RETURN_IF_ERROR(rep->ClaimSequencePrefix());
    std::lock_guard<std::mutex> lock(rep->write_mu);
    RETURN_IF_ERROR(rep->LoadFollowingLog());
  } else {
    Status loaded = rep->Load();
    bool complete = loaded.ok();
    if (loaded.ok()) RETURN_IF_ERROR(rep->CheckComplete(&complete));
    if (!complete) {
      log::Warn("search index lost or corrupt; rebuilding it from the memories",
                {{"error", loaded.ToString()}});
      RETURN_IF_ERROR(rep->Rebuild());
      RETURN_IF_ERROR(rep->Load());
    }
  }
  std::unique_ptr<SearchIndex> index(new SearchIndex(std::move(rep)));
  if (index->rep_->options.background) {
    SearchIndex* self = index.get();
    index->rep_->indexer = std::thread([self] { self->rep_->IndexerLoop(self); });
    index->rep_->merger = std::thread([self] { self->rep_->MergerLoop(self); });
  }
  return index;
}

void SearchIndex::Stop() {
  {
    std::lock_guard<std::mutex> lock(rep_->queue_mu);
    rep_->stopping = true;
  }
  rep_->wake_cv.notify_all();
  rep_->merge_cv.notify_all();
  rep_->indexed_cv.notify_all();
  if (rep_->indexer.joinable()) rep_->indexer.join();
  if (rep_->merger.joinable()) rep_->merger.join();
}

uint64_t SearchIndex::ReserveQueueSequence() {
  std::lock_guard<std::mutex> lock(rep_->queue_mu);
  uint64_t sequence = rep_->next_sequence++;
  rep_->outstanding.emplace(sequence, Clock::now());
  return sequence;
}

Status SearchIndex::AwaitIndexed(uint64_t sequence) {
  std::unique_lock<std::mutex> lock(rep_->queue_mu);
  rep_->wake = true;
  rep_->wake_cv.notify_all();
  rep_->indexed_cv.wait_for(lock, std::chrono::milliseconds(rep_->options.await_timeout_ms), [&] {
    return rep_->stopping || !rep_->outstanding.contains(sequence);
  });
  return Status::Ok();
}

namespace {

Tombstone TombstoneOf(const storage::MemoryRecord& record) {
  Tombstone tombstone;
  tombstone.terms = storage::Tokenize(record.content);
  tombstone.doc_len = static_cast<uint32_t>(tombstone.terms.size());
  std::sort(tombstone.terms.begin(), tombstone.terms.end());
  tombstone.terms.erase(std::unique(tombstone.terms.begin(), tombstone.terms.end()),
                        tombstone.terms.end());
  return tombstone;
}

}  // namespace

Status SearchIndex::CommitDelete(const storage::MemoryRecord& record, storage::WriteBatch* batch) {
  if (rep_->clustered()) {
    // The writer tombstones it (it may be merging the segment that holds it right now).
    StageDelete(record, batch);
    return rep_->db->Write(*batch);
  }
  std::lock_guard<std::mutex> lock(rep_->write_mu);
  RETURN_IF_ERROR(rep_->ReloadIfDue());
  auto index = rep_->Snapshot(record.user_id);
  // A lost commit leaves what is stored in doubt: reload before the next change.
  auto write = [&] {
    Status s = rep_->db->Write(*batch);
    if (!s.ok()) rep_->reload_due = true;
    return s;
  };
  for (size_t i = 0; index != nullptr && i < index->segments.size(); ++i) {
    const SegmentView& view = index->segments[i];
    if (view.scope != record.external_user_id) continue;
    auto doc = view.segment->FindDoc(record.id);
    if (!doc.has_value() || view.deletions->Contains(*doc)) continue;
    Tombstone tombstone = TombstoneOf(record);
    std::string encoded = EncodeTombstone(tombstone);
    batch->Put(storage::Table::kSegments,
               storage::SegmentTombstoneKey(record.user_id, view.scope, view.id, *doc), encoded);
    RETURN_IF_ERROR(write());
    auto deletions = std::make_shared<Deletions>(*view.deletions);
    deletions->Add(*doc, std::move(encoded), tombstone);
    auto updated = std::make_shared<UserIndex>(*index);
    updated->segments[i].deletions = std::move(deletions);
    rep_->Publish(record.user_id, std::move(updated));
    return Status::Ok();
  }
  RETURN_IF_ERROR(write());
  rep_->unindexed_deletes.emplace(record.user_id, record.id);
  return Status::Ok();
}

void SearchIndex::StageDelete(const storage::MemoryRecord& record, storage::WriteBatch* batch) {
  batch->Put(storage::Table::kIndexQueue, storage::IndexQueueKey(ReserveQueueSequence()),
             storage::EncodeIndexQueueDeletion(record.user_id, record.id,
                                               EncodeTombstone(TombstoneOf(record))));
}

Result<std::vector<storage::IndexHit>> SearchIndex::Search(
    std::string_view user_id, std::string_view query, size_t max_results,
    std::optional<std::string_view> scope) const {
  std::vector<storage::IndexHit> hits;
  std::vector<std::string> terms = QueryTerms(query);
  if (terms.empty()) return hits;
  // Read-your-writes: memories committed before the search began are taken in first.
  rep_->AwaitCatchUp();
  auto index = rep_->Snapshot(std::string(user_id));
  if (terms.empty() || index == nullptr) return hits;
  std::vector<SegmentRef> refs;
  refs.reserve(index->segments.size());
  for (const auto& view : index->segments) {
    // Segments are per scope: one end user's search reads (and is ranked by) theirs alone.
    if (scope && view.scope != *scope) continue;
    refs.push_back(SegmentRef{view.segment.get(), view.deletions.get()});
  }
  ASSIGN_OR_RETURN(std::vector<ScoredDoc> top, SearchSegments(refs, terms, max_results));
  hits.reserve(top.size());
  for (const auto& doc : top) hits.push_back({std::string(doc.memory_id), doc.score});
  return hits;
}

size_t SearchIndex::SegmentCount(std::string_view user_id) const {
  auto index = rep_->Snapshot(std::string(user_id));
  return index == nullptr ? 0 : index->segments.size();
}

}  // namespace papr::search
