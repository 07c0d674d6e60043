#include "storage/memory_store.h"

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
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

  std::mutex& StripeFor(std::string_view user_id, std::string_view memory_id) {
    size_t h =
        std::hash<std::string_view>()(user_id) * 31 + std::hash<std::string_view>()(memory_id);
    return stripes[h % kStripes];
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
             EncodeIndexQueueValue(record.user_id, record.id));
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
