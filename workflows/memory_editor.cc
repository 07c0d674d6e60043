#include "workflows/memory_editor.h"

#include <algorithm>

#include "common/crypto.h"
#include "storage/text_analysis.h"
#include "workflows/memory_processor.h"

namespace papr::workflows {
namespace {

Status NotFound(const std::string& id) {
  return Status::NotFound("memory " + id + " not found");
}

bool Visible(const storage::MemoryRecord& record, std::optional<std::string_view> end_user) {
  return !end_user || record.external_user_id == *end_user;
}

}  // namespace

MemoryEditor::MemoryEditor(storage::MemoryStore* store, int64_t max_content_bytes)
    : store_(store), max_content_bytes_(max_content_bytes) {}

Result<storage::MemoryRecord> MemoryEditor::Get(const std::string& user, const std::string& id,
                                                std::optional<std::string_view> end_user) const {
  ASSIGN_OR_RETURN(storage::MemoryRecord record, store_->Get(user, id));
  if (!Visible(record, end_user)) return NotFound(id);
  return record;
}

Status MemoryEditor::Delete(const std::string& user, const std::string& id,
                            std::optional<std::string_view> end_user) {
  if (end_user) RETURN_IF_ERROR(Get(user, id, end_user).status());
  return store_->Delete(user, id);
}

Result<storage::MemoryRecord> MemoryEditor::Update(const std::string& user, const std::string& id,
                                                   const MemoryPatch& patch,
                                                   std::optional<std::string_view> end_user) {
  return store_->Update(user, id, [&](storage::MemoryRecord* record) -> Status {
    if (!Visible(*record, end_user)) return NotFound(id);
    MemoryInput input{patch.content.value_or(record->content), patch.type.value_or(record->type),
                      patch.metadata_json.value_or(record->metadata_json),
                      patch.context_json.value_or(record->context_json), record->external_user_id};
    RETURN_IF_ERROR(ValidateMemoryInput(input, max_content_bytes_));
    if (input.content != record->content) {
      record->content = input.content;
      record->content_hash = Sha256Hex(input.content);
      record->word_count = storage::CountWords(input.content);
      record->keywords = storage::ExtractKeywords(input.content);
      record->enrichment_json.clear();  // it described the old content
    }
    record->type = std::move(input.type);
    record->metadata_json = std::move(input.metadata_json);
    record->context_json = std::move(input.context_json);
    return Status::Ok();
  });
}

Result<std::vector<storage::ScoredMemory>> MemoryEditor::Search(
    const std::string& user, std::string_view query, size_t max_results,
    std::optional<std::string_view> end_user, const MetadataFilter* filter) const {
  if (filter == nullptr || filter->empty()) {
    return store_->Search(user, query, max_results, end_user);
  }
  size_t candidates = std::max(kFilterCandidates, 50 * max_results);
  ASSIGN_OR_RETURN(auto found, store_->Search(user, query, candidates, end_user));
  std::vector<storage::ScoredMemory> kept;
  for (auto& hit : found) {
    if (kept.size() == max_results) break;
    if (filter->Matches(hit.memory.metadata_json)) kept.push_back(std::move(hit));
  }
  return kept;
}

Result<int64_t> MemoryEditor::DeleteAll(const std::string& user,
                                        std::optional<std::string_view> end_user) {
  int64_t total = 0;
  while (true) {
    ASSIGN_OR_RETURN(int64_t deleted, store_->DeleteSome(user, end_user, kDeletePage));
    if (deleted == 0) return total;
    total += deleted;
  }
}

}  // namespace papr::workflows
