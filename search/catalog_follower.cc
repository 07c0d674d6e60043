// Cluster mode: the writer role (whoever holds the writer fence), the catalog log the writer
// appends to in each commit, and the followers that apply it.

#include <algorithm>
#include <map>
#include <random>

#include "common/log.h"
#include "search/internal/search_index_rep.h"
#include "storage/keys.h"

namespace papr::search {
namespace {

constexpr int kPrefixClaims = 16;

Result<uint64_t> ReadLogHead(const storage::Db& db) {
  ASSIGN_OR_RETURN(auto head, db.Get(storage::Table::kMeta, storage::MetaSearchLogHeadKey()));
  if (!head.has_value()) return 0;
  try {
    return static_cast<uint64_t>(std::stoull(*head));
  } catch (...) {
    return Status::Corruption("search index: malformed catalog log head");
  }
}

// The view of segment `id` in `index`, or nullptr.
SegmentView* FindSegment(UserIndex* index, uint64_t id) {
  for (auto& v : index->segments) {
    if (v.id == id) return &v;
  }
  return nullptr;
}

}  // namespace

Status SearchIndex::Rep::ClaimSequencePrefix() {
  std::random_device random;
  for (int attempt = 0; attempt < kPrefixClaims; ++attempt) {
    // Below 2^31, above 0: a single node's sequences (counted from 1) stay under 2^32.
    auto prefix = static_cast<uint32_t>(random() % 0x7fffffffu) + 1;
    storage::WriteBatch claim;
    claim.Insert(storage::Table::kMeta, storage::MetaSearchSequencePrefixKey(prefix), "");
    Status s = db->Write(claim);
    if (s.code() == StatusCode::kAlreadyExists) continue;
    RETURN_IF_ERROR(s);
    std::lock_guard<std::mutex> lock(queue_mu);
    next_sequence = (static_cast<uint64_t>(prefix) << 32) | 1;
    return Status::Ok();
  }
  return Status::Internal("search index: no free queue sequence prefix");
}

Result<bool> SearchIndex::Rep::TakeWriterRole() {
  std::optional<storage::Fence> fence = options.writer_fence();
  if (!fence.has_value()) {
    writing_with.reset();
    return false;
  }
  if (!writing_with || writing_with->shard != fence->shard ||
      writing_with->range_id != fence->range_id) {
    // Another node wrote until now: start from what it committed.
    RETURN_IF_ERROR(LoadFollowingLog());
    reload_due = false;
    writing_with = fence;
    log::Info("search index: this node writes the index now",
              {{"catalog_version", std::to_string(log_version)}});
  }
  return true;
}

Status SearchIndex::Rep::LoadFollowingLog() {
  ASSIGN_OR_RETURN(uint64_t head, ReadLogHead(*db));
  RETURN_IF_ERROR(Load(/*tolerant=*/true));
  log_version = head;
  return Status::Ok();
}

void SearchIndex::Rep::StageChange(const CatalogChange& change, storage::WriteBatch* batch) {
  batch->SetFence(*writing_with);
  uint64_t version = ++log_version;  // a failed write reloads, which rereads the head
  batch->Put(storage::Table::kMeta, storage::MetaSearchLogKey(version),
             EncodeCatalogChange(change));
  batch->Put(storage::Table::kMeta, storage::MetaSearchLogHeadKey(), std::to_string(version));
  if (version > kCatalogLogKept) {
    batch->Delete(storage::Table::kMeta, storage::MetaSearchLogKey(version - kCatalogLogKept));
  }
}

Status SearchIndex::Rep::Follow(std::vector<uint64_t>* taken_in) {
  RETURN_IF_ERROR(ReloadIfDue());
  ASSIGN_OR_RETURN(uint64_t head, ReadLogHead(*db));
  if (head <= log_version) return Status::Ok();
  std::vector<CatalogChange> changes;
  uint64_t expected = log_version + 1;
  bool gap = false;
  Status problem;
  RETURN_IF_ERROR(db->ScanRange(
      storage::Table::kMeta, storage::MetaSearchLogKey(expected),
      storage::MetaSearchLogKey(head + 1), [&](std::string_view key, std::string_view value) {
        CatalogChange change;
        if (key != storage::MetaSearchLogKey(expected)) {
          gap = true;  // trimmed: too far behind
          return false;
        }
        if (!DecodeCatalogChange(value, &change)) {
          problem = Status::Corruption("search index: malformed catalog log entry");
          return false;
        }
        changes.push_back(std::move(change));
        ++expected;
        return true;
      }));
  RETURN_IF_ERROR(problem);
  if (gap || changes.empty()) return LoadFollowingLog();
  for (const auto& change : changes) {
    RETURN_IF_ERROR(ApplyChange(change));
    ++log_version;
    taken_in->insert(taken_in->end(), change.taken_in.begin(), change.taken_in.end());
  }
  return Status::Ok();
}

namespace {

//! The user indexes one change touches: copies of the published ones, published together.
struct TouchedIndexes {
  const SearchIndex::Rep& rep;
  std::map<std::string, std::shared_ptr<UserIndex>> users;

  UserIndex* Of(const std::string& user_id) {
    auto& index = users[user_id];
    if (!index) {
      auto current = rep.Snapshot(user_id);
      index = current ? std::make_shared<UserIndex>(*current) : std::make_shared<UserIndex>();
    }
    return index.get();
  }
};

// Adds one row a change wrote: a segment (unless loaded already, by a reload that read past
// the log head) or a tombstone of a segment held (unless it is there already).
Status AddRow(const storage::SegmentKeyParts& k, std::string value, TouchedIndexes* touched) {
  UserIndex* index = touched->Of(k.user_id);
  SegmentView* view = FindSegment(index, k.segment_id);
  if (!k.tombstone) {
    if (view != nullptr) return Status::Ok();
    ASSIGN_OR_RETURN(auto segment, Segment::Open(std::move(value)));
    auto deletions = std::make_shared<Deletions>(segment->doc_count());
    index->segments.push_back(SegmentView{k.segment_id, k.scope, std::move(segment), deletions});
    return Status::Ok();
  }
  Tombstone tombstone;
  if (view == nullptr || k.doc >= view->segment->doc_count() ||
      view->deletions->Contains(k.doc) || !DecodeTombstone(value, &tombstone)) {
    return Status::Ok();
  }
  auto deletions = std::make_shared<Deletions>(*view->deletions);
  deletions->Add(k.doc, std::move(value), tombstone);
  view->deletions = std::move(deletions);
  return Status::Ok();
}

}  // namespace

Status SearchIndex::Rep::ApplyChange(const CatalogChange& change) {
  ASSIGN_OR_RETURN(auto values, db->MultiGet(storage::Table::kSegments, change.added));
  std::vector<storage::SegmentKeyParts> parts(change.added.size());
  std::vector<size_t> order(change.added.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!storage::DecodeSegmentKey(change.added[i], &parts[i])) {
      return Status::Corruption("search index: malformed key in the catalog log");
    }
    order[i] = i;
  }
  // Segments before the tombstones that point into them.
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return !parts[a].tombstone && parts[b].tombstone; });
  TouchedIndexes touched{*this, {}};
  for (size_t i : order) {
    if (!values[i].has_value()) continue;  // removed again by a later change
    RETURN_IF_ERROR(AddRow(parts[i], std::move(*values[i]), &touched));
  }
  for (const auto& key : change.removed) {
    storage::SegmentKeyParts k;
    if (!storage::DecodeSegmentKey(key, &k) || k.tombstone) continue;
    auto& segments = touched.Of(k.user_id)->segments;
    std::erase_if(segments, [&](const SegmentView& v) { return v.id == k.segment_id; });
  }
  for (auto& [user_id, index] : touched.users) Publish(user_id, std::move(index));
  return Status::Ok();
}

}  // namespace papr::search
