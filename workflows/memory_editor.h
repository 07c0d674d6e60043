#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "storage/memory_record.h"
#include "storage/memory_store.h"
#include "workflows/metadata_filter.h"

namespace papr::workflows {

//! The fields PUT /v1/memory/{id} may change; an absent field keeps its value.
struct MemoryPatch {
  std::optional<std::string> content;
  std::optional<std::string> type;
  std::optional<std::string> metadata_json;
  std::optional<std::string> context_json;
};

//! Reads, updates and deletes stored memories on behalf of a key's owner and, when `end_user`
//! is given, of one of its end users (external_user_id): another end user's memory is
//! NotFound, exactly as an absent one. Thread-safe.
class MemoryEditor {
 public:
  // Memories deleted per atomic write by DeleteAll.
  static constexpr size_t kDeletePage = 500;

  MemoryEditor(storage::MemoryStore* store, int64_t max_content_bytes);

  Result<storage::MemoryRecord> Get(const std::string& user, const std::string& id,
                                    std::optional<std::string_view> end_user) const;
  Status Delete(const std::string& user, const std::string& id,
                std::optional<std::string_view> end_user);
  // Validates the patched memory as an add would (InvalidArgument) and stores it; new content
  // is re-derived (hash, word count, keywords) and searchable when this returns.
  Result<storage::MemoryRecord> Update(const std::string& user, const std::string& id,
                                       const MemoryPatch& patch,
                                       std::optional<std::string_view> end_user);
  // The best `max_results` of the user's memories for `query` (only `end_user`'s when given,
  // ranked with that end user's statistics) whose metadata passes `filter` (optional). With a
  // filter the candidates are the best max(kFilterCandidates, 50 x max_results) by BM25.
  Result<std::vector<storage::ScoredMemory>> Search(const std::string& user,
                                                    std::string_view query, size_t max_results,
                                                    std::optional<std::string_view> end_user,
                                                    const MetadataFilter* filter) const;
  static constexpr size_t kFilterCandidates = 1000;

  // Deletes every memory of the user (of `end_user` when given) in atomic pages of
  // kDeletePage and returns how many. A failure leaves the pages before it deleted; calling
  // again deletes the rest.
  Result<int64_t> DeleteAll(const std::string& user, std::optional<std::string_view> end_user);

 private:
  storage::MemoryStore* store_;
  int64_t max_content_bytes_;
};

}  // namespace papr::workflows
