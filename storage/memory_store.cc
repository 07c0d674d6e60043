#include "storage/memory_store.h"

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <set>
#include <utility>

#include "storage/keys.h"
#include "storage/text_analysis.h"

namespace papr::storage {
namespace {

constexpr size_t kStripes = 64;

// Ids become key parts followed by '\0', so they must be non-empty and free of NUL.
Status ValidateUserId(std::string_view user_id) {
  if (user_id.empty() || user_id.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("user id must be non-empty and contain no NUL byte");
  }
  return Status::Ok();
}

Status ValidateIds(std::string_view user_id, std::string_view memory_id) {
  RETURN_IF_ERROR(ValidateUserId(user_id));
  if (memory_id.empty() || memory_id.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("memory id must be non-empty and contain no NUL byte");
  }
  return Status::Ok();
}

}  // namespace

struct MemoryStore::Rep {
  Db* db;
  MemoryIndex* index = nullptr;
  std::array<std::mutex, kStripes> stripes;
  // Queue sequences when no index is attached (tools writing while no server runs): start at
  // the clock in microseconds so they stay above the rows an earlier process left.
  std::atomic<uint64_t> fallback_sequence{static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count())};

  size_t StripeIndex(std::string_view user_id, std::string_view memory_id) const {
    size_t h =
        std::hash<std::string_view>()(user_id) * 31 + std::hash<std::string_view>()(memory_id);
    return h % kStripes;
  }
  std::mutex& StripeFor(std::string_view user_id, std::string_view memory_id) {
    return stripes[StripeIndex(user_id, memory_id)];
  }

  uint64_t NextSequence() {
    return index != nullptr ? index->ReserveQueueSequence() : fallback_sequence.fetch_add(1);
  }
};

MemoryStore::MemoryStore(Db* db) : rep_(std::make_unique<Rep>()) { rep_->db = db; }

MemoryStore::~MemoryStore() = default;

void MemoryStore::AttachIndex(MemoryIndex* index) { rep_->index = index; }

Status MemoryStore::StageWrite(const MemoryRecord& record, WriteBatch* batch,
                               uint64_t* sequence) const {
  RETURN_IF_ERROR(ValidateIds(record.user_id, record.id));
  auto doc_len = static_cast<int64_t>(Tokenize(record.content).size());
  *sequence = rep_->NextSequence();
  // The database decides who creates the id: a concurrent writer's batch (this process or
  // another on the same store) that also found it absent fails with AlreadyExists.
  batch->Insert(Table::kMemories, MemoryKey(record.user_id, record.id), EncodeMemoryRecord(record));
  batch->Put(Table::kIndexQueue, IndexQueueKey(*sequence),
             EncodeIndexQueueValue(record.user_id, record.id, record.content_hash));
  batch->AddCounters(Table::kUserStats, UserStatsKey(record.user_id), 1, doc_len);
  return Status::Ok();
}

Status MemoryStore::PrepareWrite(const MemoryRecord& record, WriteBatch* batch) const {
  uint64_t sequence = 0;
  return StageWrite(record, batch, &sequence);
}

Result<bool> MemoryStore::Put(const MemoryRecord& record) {
  RETURN_IF_ERROR(ValidateIds(record.user_id, record.id));
  ASSIGN_OR_RETURN(std::optional<std::string> existing,
                   rep_->db->Get(Table::kMemories, MemoryKey(record.user_id, record.id)));
  if (existing.has_value()) return false;
  uint64_t sequence = 0;
  WriteBatch batch;
  RETURN_IF_ERROR(StageWrite(record, &batch, &sequence));
  Status written = rep_->db->Write(batch);
  if (written.code() == StatusCode::kAlreadyExists) return false;  // stored concurrently
  RETURN_IF_ERROR(written);
  if (rep_->index != nullptr) RETURN_IF_ERROR(rep_->index->AwaitIndexed(sequence));
  return true;
}

Result<MemoryRecord> MemoryStore::Get(std::string_view user_id, std::string_view memory_id) const {
  RETURN_IF_ERROR(ValidateIds(user_id, memory_id));
  ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                   rep_->db->Get(Table::kMemories, MemoryKey(user_id, memory_id)));
  if (!bytes.has_value()) {
    return Status::NotFound("memory " + std::string(memory_id) + " not found");
  }
  return DecodeMemoryRecord(*bytes);
}

Status MemoryStore::Delete(std::string_view user_id, std::string_view memory_id) {
  RETURN_IF_ERROR(ValidateIds(user_id, memory_id));
  // Serialises this process's deletes of one id (each would subtract the statistics).
  std::lock_guard<std::mutex> lock(rep_->StripeFor(user_id, memory_id));
  ASSIGN_OR_RETURN(MemoryRecord record, Get(user_id, memory_id));
  auto doc_len = static_cast<int64_t>(Tokenize(record.content).size());
  WriteBatch batch;
  batch.Delete(Table::kMemories, MemoryKey(user_id, memory_id));
  batch.AddCounters(Table::kUserStats, UserStatsKey(user_id), -1, -doc_len);
  if (rep_->index != nullptr) return rep_->index->CommitDelete(record, &batch);
  return rep_->db->Write(batch);
}

Result<MemoryRecord> MemoryStore::Update(std::string_view user_id, std::string_view memory_id,
                                         const std::function<Status(MemoryRecord*)>& change) {
  RETURN_IF_ERROR(ValidateIds(user_id, memory_id));
  std::lock_guard<std::mutex> lock(rep_->StripeFor(user_id, memory_id));
  ASSIGN_OR_RETURN(MemoryRecord current, Get(user_id, memory_id));
  MemoryRecord updated = current;
  RETURN_IF_ERROR(change(&updated));
  if (updated.id != current.id || updated.user_id != current.user_id ||
      updated.external_user_id != current.external_user_id) {
    return Status::InvalidArgument("an update keeps the memory's id and owners");
  }
  WriteBatch batch;
  batch.Put(Table::kMemories, MemoryKey(user_id, memory_id), EncodeMemoryRecord(updated));
  std::optional<uint64_t> sequence;
  if (updated.content != current.content) {
    if (rep_->index == nullptr) return Status::FailedPrecondition("no search index attached");
    // The old content leaves the index and the new one enters it, in this one commit.
    rep_->index->StageDelete(current, &batch);
    sequence = rep_->NextSequence();
    batch.Put(Table::kIndexQueue, IndexQueueKey(*sequence),
              EncodeIndexQueueValue(user_id, memory_id, updated.content_hash));
    auto old_len = static_cast<int64_t>(Tokenize(current.content).size());
    auto new_len = static_cast<int64_t>(Tokenize(updated.content).size());
    batch.AddCounters(Table::kUserStats, UserStatsKey(user_id), 0, new_len - old_len);
  }
  RETURN_IF_ERROR(rep_->db->Write(batch));
  if (sequence) RETURN_IF_ERROR(rep_->index->AwaitIndexed(*sequence));
  return updated;
}

Result<int64_t> MemoryStore::DeleteSome(std::string_view user_id,
                                        std::optional<std::string_view> scope, size_t max) {
  RETURN_IF_ERROR(ValidateUserId(user_id));
  if (rep_->index == nullptr) return Status::FailedPrecondition("no search index attached");
  std::vector<MemoryRecord> doomed;
  auto cursor = rep_->db->NewCursor(Table::kMemories);
  std::string prefix = MemoryUserPrefix(user_id);
  for (cursor->Seek(prefix); cursor->Valid() && doomed.size() < max; cursor->Next()) {
    if (cursor->key().substr(0, prefix.size()) != prefix) break;
    ASSIGN_OR_RETURN(MemoryRecord record, DecodeMemoryRecord(cursor->value()));
    if (!scope || record.external_user_id == *scope) doomed.push_back(std::move(record));
  }
  RETURN_IF_ERROR(cursor->status());
  // This process's single deletes and updates of these ids wait (stripes in one order).
  std::set<size_t> stripes;
  for (const auto& r : doomed) stripes.insert(rep_->StripeIndex(r.user_id, r.id));
  std::vector<std::unique_lock<std::mutex>> locks;
  for (size_t i : stripes) locks.emplace_back(rep_->stripes[i]);
  WriteBatch batch;
  int64_t deleted = 0, total_len = 0;
  for (const auto& listed : doomed) {
    // Re-read under the lock: a single delete may have removed it, an update changed it.
    auto current = Get(user_id, listed.id);
    if (current.status().IsNotFound()) continue;
    RETURN_IF_ERROR(current.status());
    batch.Delete(Table::kMemories, MemoryKey(user_id, current->id));
    rep_->index->StageDelete(*current, &batch);
    total_len += static_cast<int64_t>(Tokenize(current->content).size());
    ++deleted;
  }
  if (deleted == 0) return 0;
  batch.AddCounters(Table::kUserStats, UserStatsKey(user_id), -deleted, -total_len);
  RETURN_IF_ERROR(rep_->db->Write(batch));
  return deleted;
}

Result<std::vector<ScoredMemory>> MemoryStore::Search(
    std::string_view user_id, std::string_view query, size_t max_results,
    std::optional<std::string_view> scope) const {
  RETURN_IF_ERROR(ValidateUserId(user_id));
  if (rep_->index == nullptr) return Status::FailedPrecondition("no search index attached");
  ASSIGN_OR_RETURN(std::vector<IndexHit> hits,
                   rep_->index->Search(user_id, query, max_results, scope));
  std::vector<ScoredMemory> results;
  results.reserve(hits.size());
  for (auto& hit : hits) {
    auto record = Get(user_id, hit.memory_id);
    if (record.status().IsNotFound()) continue;  // deleted after the index was read
    if (!record.ok()) return record.status();
    if (scope && record->external_user_id != *scope) continue;  // never another end user's
    results.push_back(ScoredMemory{std::move(record).value(), hit.score});
  }
  return results;
}

Result<int64_t> MemoryStore::CountForUser(std::string_view user_id) const {
  RETURN_IF_ERROR(ValidateUserId(user_id));
  ASSIGN_OR_RETURN(auto stats, rep_->db->GetCounters(Table::kUserStats, UserStatsKey(user_id)));
  return stats.first;
}

}  // namespace papr::storage
