// Background merges: the policy picks segments of one scope, they are merged outside the
// write lock, and the commit moves tombstones that arrived meanwhile onto the new segment.

#include <algorithm>
#include <map>

#include "search/internal/search_index_rep.h"
#include "search/segment_merger.h"
#include "storage/keys.h"

namespace papr::search {

Result<bool> SearchIndex::MergeOnce() {
  if (rep_->clustered()) {
    std::lock_guard<std::mutex> lock(rep_->write_mu);
    if (!rep_->writing_with) return false;  // followers do not merge
  }
  for (const auto& [user_id, index] : rep_->SnapshotAll()) {
    std::map<std::string, std::vector<SegmentStats>> by_scope;
    for (const auto& v : index->segments) {
      by_scope[v.scope].push_back({v.id, v.segment->doc_count(), v.deletions->count()});
    }
    for (const auto& [scope, stats] : by_scope) {
      std::vector<uint64_t> ids = rep_->options.merge_policy->FindMerge(stats);
      if (ids.empty()) continue;
      std::sort(ids.begin(), ids.end());
      std::vector<SegmentView> inputs;
      for (uint64_t id : ids) {
        for (const auto& v : index->segments) {
          if (v.id == id && v.scope == scope) inputs.push_back(v);
        }
      }
      RETURN_IF_ERROR(rep_->Merge(user_id, inputs));
      return true;
    }
  }
  return false;
}

namespace {

// The current view of the segment `id` in `index`, or nullptr.
const SegmentView* FindView(const UserIndex& index, uint64_t id) {
  for (const auto& v : index.segments) {
    if (v.id == id) return &v;
  }
  return nullptr;
}

}  // namespace

Status SearchIndex::Rep::Merge(const std::string& user_id,
                               const std::vector<SegmentView>& inputs) {
  std::vector<MergeInput> merge_inputs;
  for (const auto& v : inputs) merge_inputs.push_back({v.segment.get(), v.deletions.get()});
  ASSIGN_OR_RETURN(MergeOutput out, MergeSegments(merge_inputs));
  ASSIGN_OR_RETURN(std::shared_ptr<const Segment> merged, Segment::Open(out.bytes));
  const std::string& scope = inputs.front().scope;

  std::lock_guard<std::mutex> lock(write_mu);
  RETURN_IF_ERROR(ReloadIfDue());  // then inputs a reload dropped count as vanished below
  if (clustered() && !writing_with) return Status::Ok();  // no longer the writer
  auto current = Snapshot(user_id);
  uint64_t id = next_segment_id++;
  auto deletions = std::make_shared<Deletions>(merged->doc_count());
  storage::WriteBatch batch;
  CatalogChange change;
  change.added.push_back(storage::SegmentKey(user_id, scope, id));
  batch.Put(storage::Table::kSegments, change.added.back(), out.bytes);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const SegmentView* now = current ? FindView(*current, inputs[i].id) : nullptr;
    if (now == nullptr) return Status::Internal("merge input segment vanished");
    change.removed.push_back(storage::SegmentKey(user_id, scope, now->id));
    batch.Delete(storage::Table::kSegments, change.removed.back());
    for (const auto& [doc, encoded] : now->deletions->tombstones()) {
      batch.Delete(storage::Table::kSegments,
                   storage::SegmentTombstoneKey(user_id, scope, now->id, doc));
      uint32_t new_doc = out.doc_maps[i][doc];
      if (new_doc == kDroppedDoc) continue;  // dropped by this merge
      // Deleted while the merge ran: the tombstone moves to the merged segment.
      Tombstone tombstone;
      if (!DecodeTombstone(encoded, &tombstone)) return Status::Corruption("bad tombstone");
      change.added.push_back(storage::SegmentTombstoneKey(user_id, scope, id, new_doc));
      batch.Put(storage::Table::kSegments, change.added.back(), encoded);
      deletions->Add(new_doc, encoded, tombstone);
    }
  }
  if (clustered()) StageChange(change, &batch);
  if (Status written = db->Write(batch); !written.ok()) {
    reload_due = true;  // the merge may have been applied (see ReloadIfDue)
    return written;
  }
  auto updated = std::make_shared<UserIndex>();
  for (const auto& v : current->segments) {
    bool merged_away = std::any_of(inputs.begin(), inputs.end(),
                                   [&](const SegmentView& in) { return in.id == v.id; });
    if (!merged_away) updated->segments.push_back(v);
  }
  updated->segments.push_back(SegmentView{id, scope, std::move(merged), std::move(deletions)});
  Publish(user_id, std::move(updated));
  return Status::Ok();
}

}  // namespace papr::search
