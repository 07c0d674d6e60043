#pragma once

#include <cstdint>
#include <string>

#include <simdjson.h>

namespace papr::api {

//! Size limits on the free-form fields of one memory (config `limits.*`), so one request or
//! one stored memory stays small whatever the client sends. Defaults as in config.h.
struct MemoryFieldLimits {
  int64_t max_metadata_bytes = 16384;         // metadata, minified
  int64_t max_metadata_keys = 128;            // object keys at every level of metadata
  int64_t max_metadata_depth = 5;             // objects/arrays nested; metadata is level 1
  int64_t max_metadata_string_bytes = 4096;   // any key or string value inside metadata
  int64_t max_context_items = 50;             // messages in context
  int64_t max_context_item_bytes = 8192;      // role + content of one context message
};

//! Why a field is over a limit: the field's path, the config key and its value.
struct LimitViolation {
  std::string field;    // e.g. "metadata.tags[3]", "context[7].content"
  std::string limit;    // e.g. "limits.max_metadata_depth"
  int64_t max = 0;
  int64_t actual = 0;
  std::string message;
};

// False (with `*violation` filled) if `metadata` (an object) breaks a metadata limit, or has
// one top-level key twice (it would be lifted to the memory object twice).
bool CheckMetadataLimits(simdjson::dom::element metadata, const MemoryFieldLimits& limits,
                         LimitViolation* violation);
// False if `context` (an array of {role, content}) breaks a context limit.
bool CheckContextLimits(simdjson::dom::array context, const MemoryFieldLimits& limits,
                        LimitViolation* violation);

}  // namespace papr::api
