// Opening the index: load the segments and tombstones of kSegments, and rebuild everything
// from the memories when the index is absent (first start, upgrade from per-posting keys),
// corrupt, or holds fewer memories than the store does.

#include <map>

#include "common/log.h"
#include "search/internal/search_index_rep.h"
#include "storage/keys.h"

namespace papr::search {
namespace {

constexpr size_t kRowsPerWrite = 10'000;
constexpr const char* kIndexVersion = "1";

// Deletes every row of `table`, kRowsPerWrite per write.
Status ClearTable(storage::Db* db, storage::Table table) {
  for (;;) {
    storage::WriteBatch batch;
    auto cursor = db->NewCursor(table);
    for (cursor->Seek(""); cursor->Valid() && batch.Count() < kRowsPerWrite; cursor->Next()) {
      batch.Delete(table, cursor->key());
    }
    RETURN_IF_ERROR(cursor->status());
    if (batch.Count() == 0) return Status::Ok();
    RETURN_IF_ERROR(db->Write(batch));
  }
}

struct LoadedSegment {
  SegmentView view;
  std::string user_id;
};

Status AddTombstone(std::map<uint64_t, LoadedSegment>* segments, const storage::SegmentKeyParts& k,
                    std::string_view value, bool tolerant) {
  auto it = segments->find(k.segment_id);
  Tombstone tombstone;
  if (tolerant && it == segments->end()) return Status::Ok();
  if (it == segments->end() || k.doc >= it->second.view.segment->doc_count() ||
      !DecodeTombstone(value, &tombstone)) {
    return Status::Corruption("search index: tombstone without its segment");
  }
  auto deletions = std::const_pointer_cast<Deletions>(it->second.view.deletions);
  deletions->Add(k.doc, std::string(value), tombstone);
  return Status::Ok();
}

}  // namespace

Status SearchIndex::Rep::Rebuild() {
  RETURN_IF_ERROR(ClearTable(db, storage::Table::kSegments));
  RETURN_IF_ERROR(ClearTable(db, storage::Table::kPostings));  // retired layout
  RETURN_IF_ERROR(ClearTable(db, storage::Table::kIndexQueue));
  uint64_t sequence = 1;
  storage::WriteBatch batch;
  auto cursor = db->NewCursor(storage::Table::kMemories);
  for (cursor->Seek(""); cursor->Valid(); cursor->Next()) {
    std::string_view user_id;
    std::string_view memory_id;
    if (!storage::DecodeMemoryKey(cursor->key(), &user_id, &memory_id)) {
      return Status::Corruption("malformed memory key");
    }
    batch.Put(storage::Table::kIndexQueue, storage::IndexQueueKey(sequence++),
              storage::EncodeIndexQueueValue(user_id, memory_id));
    if (batch.Count() >= kRowsPerWrite) {
      RETURN_IF_ERROR(db->Write(batch));
      batch = storage::WriteBatch();
    }
  }
  RETURN_IF_ERROR(cursor->status());
  batch.Put(storage::Table::kMeta, storage::MetaSearchIndexVersionKey(), kIndexVersion);
  return db->Write(batch);
}

Status SearchIndex::Rep::Load(bool tolerant) {
  std::map<uint64_t, LoadedSegment> segments;
  auto cursor = db->NewCursor(storage::Table::kSegments);
  for (cursor->Seek(""); cursor->Valid(); cursor->Next()) {
    storage::SegmentKeyParts k;
    if (!storage::DecodeSegmentKey(cursor->key(), &k)) {
      return Status::Corruption("search index: malformed key");
    }
    if (k.tombstone) {
      RETURN_IF_ERROR(AddTombstone(&segments, k, cursor->value(), tolerant));
      continue;
    }
    ASSIGN_OR_RETURN(auto segment, Segment::Open(std::string(cursor->value())));
    auto deletions = std::make_shared<Deletions>(segment->doc_count());
    segments[k.segment_id] =
        LoadedSegment{SegmentView{k.segment_id, k.scope, std::move(segment), deletions},
                      k.user_id};
    next_segment_id = std::max(next_segment_id, k.segment_id + 1);
  }
  RETURN_IF_ERROR(cursor->status());
  std::unordered_map<std::string, std::shared_ptr<UserIndex>> users;
  for (auto& [id, loaded] : segments) {
    auto& user = users[loaded.user_id];
    if (!user) user = std::make_shared<UserIndex>();
    user->segments.push_back(std::move(loaded.view));
  }
  std::unordered_map<std::string, std::shared_ptr<const UserIndex>> loaded;
  for (auto& [user_id, index] : users) loaded[user_id] = std::move(index);
  std::lock_guard<std::mutex> lock(snapshot_mu);
  catalog.swap(loaded);
  return Status::Ok();
}

Status SearchIndex::Rep::ReloadIfDue() {
  if (!reload_due) return Status::Ok();
  RETURN_IF_ERROR(clustered() ? LoadFollowingLog() : Load());
  reload_due = false;
  log::Info("search index reloaded from the store after a failed write", {});
  return Status::Ok();
}

Status SearchIndex::Rep::CheckComplete(bool* complete) {
  // Live docs per user: indexed, plus queued (queued rows may name deleted memories, so this
  // can only overcount; an index that lost segments undercounts).
  std::unordered_map<std::string, int64_t> held;
  for (const auto& [user_id, index] : catalog) {
    for (const auto& v : index->segments) {
      held[user_id] += v.segment->doc_count() - v.deletions->count();
    }
  }
  auto queue = db->NewCursor(storage::Table::kIndexQueue);
  for (queue->Seek(""); queue->Valid(); queue->Next()) {
    uint64_t sequence = 0;
    std::string user_id;
    std::string memory_id;
    std::optional<std::string> deletion;
    if (!storage::DecodeIndexQueueKey(queue->key(), &sequence) ||
        !storage::DecodeIndexQueueValue(queue->value(), &user_id, &memory_id, &deletion)) {
      *complete = false;
      return Status::Ok();
    }
    if (!deletion) ++held[user_id];
    next_sequence = std::max(next_sequence, sequence + 1);
  }
  RETURN_IF_ERROR(queue->status());
  auto stats = db->NewCursor(storage::Table::kUserStats);
  for (stats->Seek(""); stats->Valid(); stats->Next()) {
    ASSIGN_OR_RETURN(auto counters,
                     db->GetCounters(storage::Table::kUserStats, stats->key()));
    if (counters.first > held[std::string(stats->key())]) {
      *complete = false;
      return Status::Ok();
    }
  }
  *complete = true;
  return stats->status();
}

}  // namespace papr::search
