#include "api/request_decoder.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <system_error>
#include <utility>

#include <simdjson.h>

#include "api/internal/json_fields.h"
#include "api/request_checks.h"
#include "common/ascii.h"
#include "common/crypto.h"
#include "common/json_writer.h"
#include "net/url.h"
#include "workflows/signal_limits.h"

// simdjson is used through its DOM API (which validates UTF-8) and its error-code forms: no
// exception can leave these decoders.

namespace papr::api {
namespace {

using simdjson::SUCCESS;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

constexpr int64_t kMaxBatchSizeHint = 1000;
constexpr int64_t kMaxSearchMemories = 1000;
constexpr int64_t kDefaultSearchMemories = 10;

// The JSON helpers (api/internal/json_fields.h) are this file's vocabulary.
using namespace internal;  // NOLINT(google-build-using-namespace)


bool DecodeContent(const object& obj, const DecodeLimits& limits, std::string* out,
                   FieldError* fe) {
  std::optional<element> v = Optional(obj, "content");
  if (!v) return Fail(fe, "content", "content is required");
  std::string_view s;
  if (v->get_string().get(s) != SUCCESS) return Fail(fe, "content", "content must be a string");
  if (IsBlank(s)) return Fail(fe, "content", "content must not be empty");
  auto size = static_cast<int64_t>(s.size());
  if (size > limits.max_content_bytes) {
    fe->max_content_bytes = limits.max_content_bytes;
    fe->content_bytes = size;
    return Fail(fe, "content",
                "content exceeds the limit of " + std::to_string(limits.max_content_bytes) +
                    " bytes (got " + std::to_string(size) + " bytes)");
  }
  out->assign(s);
  return true;
}

bool DecodeType(const object& obj, std::string* out, FieldError* fe) {
  std::string type = "text";
  if (!GetOptionalString(obj, "type", &type, fe)) return false;
  if (type != "text" && type != "code_snippet" && type != "document") {
    return Fail(fe, "type", "type must be one of text, code_snippet, document");
  }
  *out = std::move(type);
  return true;
}

bool DecodeMetadata(const object& obj, const MemoryFieldLimits& limits, std::string* out,
                    FieldError* fe) {
  std::optional<element> v = Optional(obj, "metadata");
  if (!v) {
    *out = "{}";
    return true;
  }
  if (!v->is_object()) return Fail(fe, "metadata", "metadata must be a JSON object");
  LimitViolation violation;
  if (!CheckMetadataLimits(*v, limits, &violation)) return FailLimit(fe, std::move(violation));
  *out = simdjson::minify(*v);
  return true;
}

// `context`: an array of {role, content} objects with string values.
bool DecodeContext(const object& obj, const MemoryFieldLimits& limits, std::string* out,
                   FieldError* fe) {
  std::optional<element> v = Optional(obj, "context");
  if (!v) {
    *out = "[]";
    return true;
  }
  array messages;
  if (v->get_array().get(messages) != SUCCESS) {
    return Fail(fe, "context", "context must be an array of {role, content} objects");
  }
  size_t i = 0;
  for (element message : messages) {
    std::string path = "context[" + std::to_string(i++) + "]";
    object m;
    if (message.get_object().get(m) != SUCCESS) {
      return Fail(fe, path, path + " must be an object with string role and content");
    }
    for (std::string_view key : {"role", "content"}) {
      element value;
      if (m.at_key(key).get(value) != SUCCESS || !value.is_string()) {
        std::string field = path + "." + std::string(key);
        return Fail(fe, field, field + " must be a string");
      }
    }
  }
  LimitViolation violation;
  if (!CheckContextLimits(messages, limits, &violation)) return FailLimit(fe, std::move(violation));
  *out = simdjson::minify(*v);
  return true;
}

// One AddMemoryRequest object (the body of POST /v1/memory or one item of a batch).
bool DecodeMemory(const object& obj, const DecodeLimits& limits, workflows::MemoryInput* out,
                  FieldError* fe) {
  return DecodeContent(obj, limits, &out->content, fe) && DecodeType(obj, &out->type, fe) &&
         DecodeMetadata(obj, limits.fields, &out->metadata_json, fe) &&
         DecodeContext(obj, limits.fields, &out->context_json, fe) &&
         GetOptionalString(obj, "external_user_id", &out->external_user_id, fe);
}

// The batch-level fields of a BatchMemoryRequest (everything but `memories`).
bool DecodeBatchOptions(const object& obj, workflows::BatchRequest* req, FieldError* fe) {
  constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max();
  std::optional<int64_t> batch_size, max_concurrency;
  if (!GetOptionalInt(obj, "batch_size", 1, kMaxBatchSizeHint, &batch_size, fe) ||
      !GetOptionalInt(obj, "max_concurrency", 1, kMaxInt, &max_concurrency, fe) ||
      !GetOptionalInt(obj, "tolerated_failure_count", 0, kMaxInt, &req->tolerated_failure_count,
                      fe) ||
      !GetOptionalString(obj, "webhook_url", &req->webhook_url, fe) ||
      !GetOptionalString(obj, "webhook_secret", &req->webhook_secret, fe) ||
      !GetOptionalString(obj, "external_user_id", &req->external_user_id, fe)) {
    return false;
  }
  req->batch_size = batch_size.value_or(req->batch_size);
  req->max_concurrency = max_concurrency.value_or(req->max_concurrency);
  if (!req->webhook_url.empty()) {
    // Strict: the URL goes onto a request line and into a Host header later (no splitting).
    auto url = net::ParseUrl(req->webhook_url);
    if (!url.ok()) {
      return Fail(fe, "webhook_url",
                  "webhook_url must be an http:// or https:// URL: " + url.status().message());
    }
  }
  std::string key;  // Standard Webhooks: "whsec_" + base64 of the signing key
  if (req->webhook_secret.rfind("whsec_", 0) == 0 &&
      !Base64Decode(std::string_view(req->webhook_secret).substr(6), &key)) {
    return Fail(fe, "webhook_secret", "webhook_secret has the whsec_ prefix but is not base64");
  }
  if (std::optional<element> v = Optional(obj, "tolerated_failure_percentage")) {
    double pct = 0;
    if (!v->is_number() || v->get_double().get(pct) != SUCCESS || !(pct >= 0 && pct <= 100)) {
      return Fail(fe, "tolerated_failure_percentage",
                  "tolerated_failure_percentage must be a number between 0 and 100");
    }
    req->tolerated_failure_percentage = pct;
  }
  return true;
}

// A batch's `retry_policy` (Temporal's RetryPolicy fields), bounded: at most the configured
// attempts, intervals up to a day, a coefficient in [1, 100], up to 20 error types.
bool DecodeRetryPolicy(const object& obj, const DecodeLimits& limits,
                       workflows::RetryPolicyOverrides* out, FieldError* fe) {
  std::optional<element> v = Optional(obj, "retry_policy");
  if (!v) return true;
  object policy;
  if (v->get_object().get(policy) != SUCCESS) {
    return Fail(fe, "retry_policy", "retry_policy must be an object");
  }
  constexpr int64_t kDayMs = 24 * 3600 * 1000LL;
  auto nested = [&](bool ok) {
    if (!ok) {
      fe->field = "retry_policy." + fe->field;
      fe->message = "retry_policy." + fe->message;
    }
    return ok;
  };
  if (!nested(GetOptionalInt(policy, "initial_interval_ms", 0, kDayMs, &out->initial_interval_ms, fe) &&
              GetOptionalInt(policy, "maximum_interval_ms", 0, kDayMs, &out->maximum_interval_ms, fe) &&
              GetOptionalInt(policy, "maximum_attempts", 1, std::max<int64_t>(1, limits.max_retry_attempts),
                             &out->maximum_attempts, fe))) {
    return false;
  }
  if (std::optional<element> c = Optional(policy, "backoff_coefficient")) {
    double d = 0;
    if (!c->is_number() || c->get_double().get(d) != SUCCESS || !(d >= 1 && d <= 100)) {
      return Fail(fe, "retry_policy.backoff_coefficient",
                  "retry_policy.backoff_coefficient must be a number between 1 and 100");
    }
    out->backoff_coefficient = d;
  }
  if (std::optional<element> t = Optional(policy, "non_retryable_error_types")) {
    const char* field = "retry_policy.non_retryable_error_types";
    array types;
    if (t->get_array().get(types) != SUCCESS || types.size() > 20) {
      return Fail(fe, field, std::string(field) + " must be an array of at most 20 strings");
    }
    std::vector<std::string> list;
    for (element type : types) {
      std::string_view s;
      if (type.get_string().get(s) != SUCCESS || s.empty() || s.size() > 64) {
        return Fail(fe, field, std::string(field) + " items must be strings of 1 to 64 bytes");
      }
      list.emplace_back(s);
    }
    out->non_retryable_error_types = std::move(list);
  }
  return true;
}

ApiError BatchTooLarge(size_t n, const DecodeLimits& limits) {
  JsonWriter w;
  w.BeginObject()
      .Field("batch_size", static_cast<int64_t>(n))
      .Field("max_batch_size", limits.max_batch_size)
      .Field("plan", limits.plan)
      .FieldOrNull("next_plan", limits.next_plan)
      .Field("upgrade_info", limits.upgrade_info)
      .Field("upgrade_url", limits.upgrade_url)
      .EndObject();
  return MakeError(413,
                   "Batch size (" + std::to_string(n) + ") exceeds limit (" +
                       std::to_string(limits.max_batch_size) + ")",
                   w.Take());
}

// Decodes every memory; on any invalid one, a 422 listing all of them.
bool DecodeBatchItems(const array& memories, const DecodeLimits& limits,
                      workflows::BatchRequest* req, ApiError* error) {
  JsonWriter errors;
  errors.BeginObject().Key("errors").BeginArray();
  size_t invalid = 0;
  int64_t index = 0;
  for (element item : memories) {
    workflows::MemoryInput m;
    FieldError fe;
    object obj;
    bool ok = item.get_object().get(obj) == SUCCESS
                  ? DecodeMemory(obj, limits, &m, &fe)
                  : Fail(&fe, "", "memory must be a JSON object");
    if (ok) {
      if (m.external_user_id.empty()) m.external_user_id = req->external_user_id;
      req->memories.push_back(std::move(m));
    } else {
      ++invalid;
      errors.BeginObject().Field("index", index);
      fe.WriteDetails(&errors);
      errors.Field("error", fe.message).EndObject();
    }
    ++index;
  }
  errors.EndArray().EndObject();
  if (invalid == 0) return true;
  *error = MakeError(422,
                     std::to_string(invalid) + " of " + std::to_string(index) +
                         " memories are invalid",
                     errors.Take());
  return false;
}

bool DecodeSearchFields(const object& obj, SearchRequest* req, FieldError* fe) {
  std::optional<element> query = Optional(obj, "query");
  std::string_view text;
  if (!query) return Fail(fe, "query", "query is required");
  if (query->get_string().get(text) != SUCCESS) return Fail(fe, "query", "query must be a string");
  if (IsBlank(text)) return Fail(fe, "query", "query must not be empty");
  std::optional<int64_t> max_memories;
  std::string deprecated_user_id;
  if (!GetOptionalInt(obj, "max_memories", 1, kMaxSearchMemories, &max_memories, fe) ||
      !GetOptionalString(obj, "external_user_id", &req->external_user_id, fe) ||
      !GetOptionalString(obj, "user_id", &deprecated_user_id, fe)) {
    return false;
  }
  if (req->external_user_id.empty()) req->external_user_id = deprecated_user_id;
  if (std::optional<element> filter = Optional(obj, "metadata")) {
    if (!filter->is_object()) return Fail(fe, "metadata", "metadata (a filter) must be an object");
    req->metadata_filter_json = simdjson::minify(*filter);
  }
  req->query.assign(text);
  req->max_memories = max_memories.value_or(kDefaultSearchMemories);
  return true;
}

}  // namespace

bool DecodeAddMemory(std::string_view body, const DecodeLimits& limits,
                     workflows::MemoryInput* out, ApiError* error) {
  simdjson::dom::parser parser;
  object root;
  if (!ParseObjectBody(&parser, body, &root, error)) return false;
  workflows::MemoryInput memory;
  FieldError fe;
  if (!DecodeMemory(root, limits, &memory, &fe)) {
    *error = FieldErrorAnswer(400, fe);
    return false;
  }
  *out = std::move(memory);
  return true;
}

bool DecodeUpdateMemory(std::string_view body, const DecodeLimits& limits,
                        workflows::MemoryPatch* out, ApiError* error) {
  simdjson::dom::parser parser;
  object root;
  if (!ParseObjectBody(&parser, body, &root, error)) return false;
  workflows::MemoryPatch patch;
  FieldError fe;
  // Each field given (and not null) replaces the stored one; it is checked as an add checks it.
  auto decode = [&](const char* key, std::optional<std::string>* field, auto&& decoder) {
    if (!Optional(root, key)) return true;
    field->emplace();
    return decoder(&**field);
  };
  bool ok =
      decode("content", &patch.content,
             [&](std::string* v) { return DecodeContent(root, limits, v, &fe); }) &&
      decode("type", &patch.type, [&](std::string* v) { return DecodeType(root, v, &fe); }) &&
      decode("metadata", &patch.metadata_json,
             [&](std::string* v) { return DecodeMetadata(root, limits.fields, v, &fe); }) &&
      decode("context", &patch.context_json,
             [&](std::string* v) { return DecodeContext(root, limits.fields, v, &fe); });
  if (!ok) {
    *error = FieldErrorAnswer(400, fe);
    return false;
  }
  *out = std::move(patch);
  return true;
}

bool DecodeBatch(std::string_view body, const DecodeLimits& limits,
                 workflows::BatchRequest* out, ApiError* error, int64_t* attempted_size) {
  simdjson::dom::parser parser;
  object root;
  if (!ParseObjectBody(&parser, body, &root, error)) return false;
  std::optional<element> list = Optional(root, "memories");
  array memories;
  if (!list) {
    *error = FieldErrorAnswer(400, {"memories", "memories is required"});
    return false;
  }
  if (list->get_array().get(memories) != SUCCESS) {
    *error = FieldErrorAnswer(400, {"memories", "memories must be an array of memory objects"});
    return false;
  }
  size_t n = memories.size();
  if (attempted_size != nullptr) *attempted_size = static_cast<int64_t>(n);
  if (limits.max_batch_size > 0 && n > static_cast<size_t>(limits.max_batch_size)) {
    *error = BatchTooLarge(n, limits);
    return false;
  }
  if (n == 0) {
    *error = FieldErrorAnswer(422, {"memories", "memories must contain at least one memory"});
    return false;
  }
  workflows::BatchRequest req;
  req.user_id = out->user_id;  // filled by the caller, before or after this call
  req.idempotency_key = out->idempotency_key;
  FieldError fe;
  if (!DecodeBatchOptions(root, &req, &fe)) {
    *error = FieldErrorAnswer(400, fe);
    return false;
  }
  if (!DecodeRetryPolicy(root, limits, &req.retry_policy, &fe)) {
    *error = FieldErrorAnswer(422, fe);
    return false;
  }
  req.memories.reserve(n);
  if (!DecodeBatchItems(memories, limits, &req, error)) return false;
  req.body_hash = Sha256Hex(body);
  *out = std::move(req);
  return true;
}

bool DecodeSearch(std::string_view body, SearchRequest* out, ApiError* error) {
  simdjson::dom::parser parser;
  object root;
  if (!ParseObjectBody(&parser, body, &root, error)) return false;
  SearchRequest req;
  FieldError fe;
  if (!DecodeSearchFields(root, &req, &fe)) {
    *error = FieldErrorAnswer(400, fe);
    return false;
  }
  *out = std::move(req);
  return true;
}

bool DecodeAdminAction(std::string_view body, std::string_view action, AdminActionRequest* out,
                       ApiError* error) {
  simdjson::dom::parser parser;
  object root;
  if (!ParseObjectBody(&parser, IsBlank(body) ? std::string_view("{}") : body, &root, error)) {
    return false;
  }
  AdminActionRequest req;
  FieldError fe;
  std::string reason;
  bool ok = GetOptionalString(root, "reason", &reason, &fe) &&
            GetOptionalString(root, "name", &req.name, &fe);
  if (ok && Optional(root, "reason")) req.reason = reason;
  if (ok && action == "terminate" && IsBlank(reason)) {
    ok = Fail(&fe, "reason", "reason is required (it is recorded in the history)");
  }
  if (ok && action == "signal" && IsBlank(req.name)) ok = Fail(&fe, "name", "name is required");
  if (!ok) {
    *error = FieldErrorAnswer(400, fe);
    return false;
  }
  if (std::optional<element> input = Optional(root, "input")) {
    req.input_json = simdjson::minify(*input);
  }
  if (Status size = workflows::CheckSignalSize(req.name, req.input_json); !size.ok()) {
    bool name_over = static_cast<int64_t>(req.name.size()) > workflows::kMaxSignalNameBytes;
    JsonWriter d;
    d.BeginObject().Field("field", name_over ? "name" : "input");
    d.Field("max_bytes", name_over ? workflows::kMaxSignalNameBytes
                                   : workflows::kMaxSignalInputBytes);
    d.EndObject();
    *error = MakeError(413, size.message(), d.Take());
    return false;
  }
  *out = std::move(req);
  return true;
}

}  // namespace papr::api
