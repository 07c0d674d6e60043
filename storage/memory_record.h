#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace papr::storage {

//! One stored memory with its derived fields. JSON-valued fields hold minified JSON text.
struct MemoryRecord {
  std::string id;
  std::string user_id;
  std::string content;
  std::string type = "text";
  std::string metadata_json = "{}";
  std::string context_json = "[]";
  std::string acl_json = "{}";
  std::string external_user_id;
  int64_t created_at_ms = 0;
  std::string content_hash;  // sha256 hex of content
  int64_t word_count = 0;
  std::vector<std::string> keywords;
  std::string batch_id;       // empty if added singly
  int64_t batch_index = -1;   // index within the batch, -1 if none
  std::string enrichment_json;  // processing endpoint's answer, empty if none

  bool operator==(const MemoryRecord&) const = default;
};

// Versioned binary encoding (first byte is the format version).
std::string EncodeMemoryRecord(const MemoryRecord& record);
Result<MemoryRecord> DecodeMemoryRecord(std::string_view bytes);

}  // namespace papr::storage
