// Request bodies through api/request_decoder.h with small limits, as the router decodes them,
// and JsonWriter output re-read by simdjson: every JSON the server writes from a decoded
// request (metadata, context, error details, error envelopes) must parse again.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include <simdjson.h>

#include "api/api_error.h"
#include "api/request_decoder.h"
#include "common/crypto.h"
#include "common/json_writer.h"
#include "fuzz/fuzz_checks.h"

namespace papr::fuzz {
namespace {

using simdjson::SUCCESS;
using simdjson::dom::element;

api::DecodeLimits SmallLimits() {
  api::DecodeLimits limits;
  limits.max_content_bytes = 256;
  limits.max_batch_size = 8;
  limits.upgrade_info = "Upgrade for \"bigger\" batches\n\t\x01 \xff";  // escaped by JsonWriter
  limits.upgrade_url = "https://papr.ai/cloud";
  return limits;
}

//! Parses JSON text the server produced; one parser reused across calls.
class Reparser {
 public:
  // False when `json` is not one valid JSON document.
  bool Parse(const std::string& json, element* doc) {
    return parser_.parse(json).get(*doc) == SUCCESS;
  }
  // `json` parses, and minifying what was parsed gives `json` again (a stable form).
  std::string CheckMinified(const std::string& what, const std::string& json) {
    element doc;
    if (!Parse(json, &doc)) return what + " is not valid JSON: " + json;
    if (simdjson::minify(doc) != json) return what + " is not stable under minify: " + json;
    return "";
  }

 private:
  simdjson::dom::parser parser_;
};

std::string CheckMemory(const workflows::MemoryInput& m, const api::DecodeLimits& limits,
                        Reparser& json) {
  if (m.content.empty() || static_cast<int64_t>(m.content.size()) > limits.max_content_bytes) {
    return "decoded content is empty or over the limit";
  }
  if (m.type != "text" && m.type != "code_snippet" && m.type != "document") {
    return "decoded type is not one of the three";
  }
  if (std::string f = json.CheckMinified("metadata_json", m.metadata_json); !f.empty()) return f;
  if (std::string f = json.CheckMinified("context_json", m.context_json); !f.empty()) return f;
  element doc;
  if (!json.Parse(m.metadata_json, &doc) || !doc.is_object()) return "metadata is not an object";
  if (!json.Parse(m.context_json, &doc) || !doc.is_array()) return "context is not an array";
  return "";
}

// Error answers: a documented status, details a JSON object, the envelope valid JSON.
std::string CheckError(const api::ApiError& error, std::string_view body, Reparser& json) {
  int s = error.status;
  if (s != 400 && s != 413 && s != 422 && s != 503) {
    return "undocumented error status " + std::to_string(s);
  }
  if (error.message.empty()) return "error without a message";
  element details;
  if (!json.Parse(error.details_json, &details) || !details.is_object()) {
    return "error details are not a JSON object: " + error.details_json;
  }
  if (error.message.starts_with("Malformed JSON")) {
    // The offset of the first bad byte is known for every document simdjson rejects.
    int64_t offset = -1;
    if (details["offset"].get_int64().get(offset) != SUCCESS) {
      return "malformed JSON error without an offset: " + error.message;
    }
    if (offset < 0 || offset > static_cast<int64_t>(body.size())) {
      return "malformed JSON offset outside the body";
    }
  }
  element envelope;  // parsed last: it replaces `details` in the parser
  if (!json.Parse(api::ErrorBody(error), &envelope)) return "ErrorBody is not valid JSON";
  return "";
}

std::string CheckAddMemory(std::string_view body, Reparser& json) {
  api::DecodeLimits limits = SmallLimits();
  workflows::MemoryInput m;
  api::ApiError error;
  if (!api::DecodeAddMemory(body, limits, &m, &error)) return CheckError(error, body, json);
  return CheckMemory(m, limits, json);
}

std::string CheckBatch(std::string_view body, Reparser& json) {
  api::DecodeLimits limits = SmallLimits();
  workflows::BatchRequest batch;
  batch.user_id = "user-1";
  batch.idempotency_key = "idem-1";
  api::ApiError error;
  int64_t attempted = -1;
  if (!api::DecodeBatch(body, limits, &batch, &error, &attempted)) {
    if (error.status == 413 && error.message.starts_with("Batch size") &&
        attempted <= limits.max_batch_size) {
      return "batch refused as too large with " + std::to_string(attempted) + " memories";
    }
    return CheckError(error, body, json);
  }
  size_t n = batch.memories.size();
  if (n == 0 || static_cast<int64_t>(n) > limits.max_batch_size) return "batch size out of range";
  if (attempted != static_cast<int64_t>(n)) return "attempted size differs from the batch";
  if (batch.user_id != "user-1" || batch.idempotency_key != "idem-1") {
    return "the caller's user id or idempotency key was lost";
  }
  if (batch.body_hash != Sha256Hex(body)) return "body_hash is not the body's sha256";
  if (batch.batch_size < 1 || batch.batch_size > 1000 || batch.max_concurrency < 0) {
    return "batch_size or max_concurrency out of range";
  }
  if (batch.tolerated_failure_count && *batch.tolerated_failure_count < 0) {
    return "negative tolerated_failure_count";
  }
  if (batch.tolerated_failure_percentage &&
      !(*batch.tolerated_failure_percentage >= 0 && *batch.tolerated_failure_percentage <= 100)) {
    return "tolerated_failure_percentage out of range";
  }
  for (const auto& m : batch.memories) {
    if (std::string f = CheckMemory(m, limits, json); !f.empty()) return f;
  }
  return "";
}

std::string CheckSearch(std::string_view body, Reparser& json) {
  api::SearchRequest search;
  api::ApiError error;
  if (!api::DecodeSearch(body, &search, &error)) return CheckError(error, body, json);
  if (search.query.find_first_not_of(" \t\n\r\f\v") == std::string::npos) return "blank query";
  if (search.max_memories < 1 || search.max_memories > 1000) return "max_memories out of range";
  return "";
}

// JsonWriter with the raw input as a string (any bytes: invalid UTF-8 becomes U+FFFD) and as
// numbers: the output must parse, valid UTF-8 strings and numbers must read back equal.
std::string CheckJsonWriter(std::string_view input, Reparser& json) {
  int64_t i = 0;
  double d = 0;
  if (!input.empty()) std::memcpy(&i, input.data(), std::min(sizeof(i), input.size()));
  if (input.size() >= 8) std::memcpy(&d, input.data() + input.size() - 8, sizeof(d));
  JsonWriter w;
  w.BeginObject().Field("s", input).Key("k").BeginObject().Key(input).Int(i).EndObject();
  w.Key("n").BeginArray().Int(i).Double(d).Bool(true).Null().Raw("").EndArray();
  w.FieldOrNull("e", "").FieldRaw("r", "{\"a\":[]}").EndObject();
  element doc;
  if (!json.Parse(w.str(), &doc)) return "JsonWriter output is not valid JSON: " + w.str();
  std::string_view s;
  if (doc["s"].get_string().get(s) != SUCCESS) return "JsonWriter string did not read back";
  if (simdjson::validate_utf8(input.data(), input.size()) && s != input) {
    return "JsonWriter changed a valid UTF-8 string";
  }
  element n;
  if (doc["n"].get(n) != SUCCESS) return "JsonWriter array did not read back";
  int64_t i2 = 0;
  double d2 = 0;
  if (n.at(0).get_int64().get(i2) != SUCCESS || i2 != i) return "JsonWriter Int did not round trip";
  if (std::isfinite(d)) {
    if (n.at(1).get_double().get(d2) != SUCCESS || d2 != d) {
      return "JsonWriter Double did not round trip: " + w.str();
    }
  } else if (!n.at(1).is_null()) {
    return "JsonWriter wrote a non-finite double as something else than null";
  }
  return "";
}

}  // namespace

std::string CheckJsonRequest(std::string_view input) {
  Reparser json;
  for (auto check : {CheckAddMemory, CheckBatch, CheckSearch, CheckJsonWriter}) {
    if (std::string f = check(input, json); !f.empty()) return f;
  }
  return "";
}

}  // namespace papr::fuzz
