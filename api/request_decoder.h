#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/api_error.h"
#include "api/memory_limits.h"
#include "workflows/batch_types.h"
#include "workflows/memory_editor.h"

namespace papr::api {

//! Limits the decoders enforce; filled from the config by the router.
struct DecodeLimits {
  int64_t max_content_bytes = 15000;
  int64_t max_batch_size = 50;
  MemoryFieldLimits fields;  // metadata and context
  std::string upgrade_info;  // what to do about the limit, for the 413 details
  std::string upgrade_url;   // messaging.upgrade_url
  std::string plan;          // the caller's plan (config/plans.h), named in the 413
  std::string next_plan;     // the plan to upgrade to; empty at the top
  // processing.retry.maximum_attempts: the most a batch's retry_policy may ask for.
  int64_t max_retry_attempts = 5;
};

struct SearchRequest {
  std::string query;
  int64_t max_memories = 10;  // 1..1000
  // Only this end user's memories (Papr's external_user_id); absent or "": all of the key's.
  std::string external_user_id;
  // Papr's `metadata` filter (workflows/metadata_filter.h), minified; empty: none.
  std::string metadata_filter_json;
};

// Decoders of request bodies (simdjson). On failure they return false and fill `error`:
//  - malformed JSON or invalid UTF-8: 400, details {"offset": byte offset (if known)}
//  - wrong or missing field: 400 (single memory / search) with details {"field": "path"}
//  - metadata/context over a MemoryFieldLimits limit (or a top-level metadata key twice):
//    422 with details {"field": "path", "limit": "limits.<key>", "max": N, "actual": M}
//  - batch: over max_batch_size: 413 with details {batch_size, max_batch_size, plan,
//    next_plan (null at the top), upgrade_info, upgrade_url}, message "Batch size (N) exceeds limit (M)", checked before the items;
//    invalid items: 422, details {"errors": [{"index": i, "field": "...", "error": "..."}]}
//    listing every invalid memory; empty `memories`: 422.
// Unknown fields are ignored (clients send more than we use).
bool DecodeAddMemory(std::string_view body, const DecodeLimits& limits,
                     workflows::MemoryInput* out, ApiError* error);
// `attempted_size` (optional) gets the number of memories sent once `memories` is an array,
// also when the batch is refused (usage statistics count attempts).
// PUT /v1/memory/{id}: content, type, metadata and context, each optional, checked as on add.
bool DecodeUpdateMemory(std::string_view body, const DecodeLimits& limits,
                        workflows::MemoryPatch* out, ApiError* error);
bool DecodeBatch(std::string_view body, const DecodeLimits& limits,
                 workflows::BatchRequest* out, ApiError* error,
                 int64_t* attempted_size = nullptr);
bool DecodeSearch(std::string_view body, SearchRequest* out, ApiError* error);

//! Body of POST /v1/admin/workflows/{id}/{terminate,cancel,signal}.
struct AdminActionRequest {
  std::optional<std::string> reason;  // terminate (required, not blank), cancel (optional)
  std::string name;                   // signal (required, not blank)
  std::string input_json;             // signal: "input" minified, any JSON; "" if absent/null
};
// `action` is "terminate", "cancel" or "signal" (it says which fields are required). An
// empty body counts as {} (cancel needs none). Errors: 400 as above, details {"field"}.
bool DecodeAdminAction(std::string_view body, std::string_view action, AdminActionRequest* out,
                       ApiError* error);

}  // namespace papr::api
