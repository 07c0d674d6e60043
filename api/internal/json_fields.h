#pragma once

// Shared by the request decoders (request_decoder.cc, user_request_decoder.cc): a JSON body
// parsed with simdjson's DOM API (error codes, no exceptions) and its optional fields, each
// failure naming the field.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "api/api_error.h"
#include "api/memory_limits.h"
#include "common/json_writer.h"

namespace papr::api::internal {

ApiError MakeError(int status, std::string message, std::string details_json = "{}");
// Parses `body` into `parser`'s document. On failure fills `error`: 400 with the offset of
// the first bad byte for malformed JSON or invalid UTF-8.
bool ParseJson(simdjson::dom::parser* parser, std::string_view body,
               simdjson::dom::element* root, ApiError* error);
// ParseJson, and the document must be an object.
bool ParseObjectBody(simdjson::dom::parser* parser, std::string_view body,
                     simdjson::dom::object* root, ApiError* error);

//! What is wrong with one field of a request: its path (e.g. "context[1].role") and why.
struct FieldError {
  std::string field;
  std::string message;
  int64_t max_content_bytes = -1;  // set for an oversize content, with its actual size
  int64_t content_bytes = -1;
  bool unprocessable = false;  // a metadata/context limit: 422 also for a single memory
  std::string limit = std::string();  // its config key, if any
  int64_t max = 0, actual = 0;

  // Writes "field" (if any) and the size limit (if any) into an open object.
  void WriteDetails(JsonWriter* w) const {
    if (!field.empty()) w->Field("field", field);
    if (max_content_bytes >= 0) {
      w->Field("max_content_bytes", max_content_bytes).Field("content_bytes", content_bytes);
    }
    if (!limit.empty()) w->Field("limit", limit).Field("max", max).Field("actual", actual);
  }
};

// Fills `fe` and returns false.
bool Fail(FieldError* fe, std::string field, std::string message);
bool FailLimit(FieldError* fe, LimitViolation v);
// The error answer of `fe`: `status`, or 422 for a metadata/context limit.
ApiError FieldErrorAnswer(int status, const FieldError& fe);
// The value of `key`, or nullopt when it is absent or null (optional fields).
std::optional<simdjson::dom::element> Optional(const simdjson::dom::object& obj,
                                               std::string_view key);
// Unicode-aware: content of only NBSP, ideographic spaces or zero-width characters is blank.
bool IsBlank(std::string_view s);
// An absent or null field leaves `*out` as it was; a non-string fails naming `key`.
bool GetOptionalString(const simdjson::dom::object& obj, std::string_view key, std::string* out,
                       FieldError* fe);
// An integral JSON number; integral floats such as 10.0 are accepted too.
bool AsInt64(simdjson::dom::element v, int64_t* out);
// An absent or null field leaves `*out` unset; else an integer in [min, max].
bool GetOptionalInt(const simdjson::dom::object& obj, std::string_view key, int64_t min,
                    int64_t max, std::optional<int64_t>* out, FieldError* fe);

}  // namespace papr::api::internal
