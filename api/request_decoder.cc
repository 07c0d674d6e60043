#include "api/request_decoder.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <system_error>
#include <utility>

#include <simdjson.h>

#include "api/request_checks.h"
#include "common/ascii.h"
#include "common/crypto.h"
#include "common/json_writer.h"
#include "net/url.h"
#include "workflows/signal_limits.h"

// simdjson is used only in this translation unit, through its DOM API (which validates
// UTF-8) and its error-code forms: no exception can leave these decoders.

namespace papr::api {
namespace {

using simdjson::SUCCESS;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// simdjson's nesting limit. The syntax checker stops two levels earlier, so it locates
// every depth error simdjson reports (simdjson counts scalars in the deepest level).
constexpr size_t kMaxJsonDepth = 256;
constexpr size_t kCheckerMaxDepth = kMaxJsonDepth - 2;
constexpr int64_t kMaxBatchSizeHint = 1000;
constexpr int64_t kMaxSearchMemories = 1000;
constexpr int64_t kDefaultSearchMemories = 10;
constexpr size_t kNoError = std::string_view::npos;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHexDigit(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Approximate base-10 exponent of the decimal number `token` (e.g. 2 for "123.4", -3 for
// "0.00123", 400 for "1e400"); 0 for zero. Only its sign matters, to tell overflow from
// underflow when std::from_chars reports a double out of range.
int64_t DecimalExponent(std::string_view token) {
  size_t i = token.empty() || token[0] != '-' ? 0 : 1;
  int64_t int_digits = 0;
  int64_t leading_fraction_zeros = 0;
  bool seen_nonzero = false;
  for (; i < token.size() && IsDigit(token[i]); ++i) {
    seen_nonzero = seen_nonzero || token[i] != '0';
    if (seen_nonzero) ++int_digits;
  }
  if (i < token.size() && token[i] == '.') {
    for (++i; i < token.size() && IsDigit(token[i]); ++i) {
      if (!seen_nonzero && token[i] == '0') ++leading_fraction_zeros;
      seen_nonzero = seen_nonzero || token[i] != '0';
    }
  }
  if (!seen_nonzero) return 0;
  int64_t exponent = 0;
  if (i < token.size() && (token[i] == 'e' || token[i] == 'E')) {
    ++i;
    bool negative = i < token.size() && token[i] == '-';
    if (i < token.size() && (token[i] == '-' || token[i] == '+')) ++i;
    for (; i < token.size() && IsDigit(token[i]); ++i) {
      exponent = std::min<int64_t>(exponent * 10 + (token[i] - '0'), 1'000'000'000);
    }
    if (negative) exponent = -exponent;
  }
  int64_t magnitude = int_digits > 0 ? int_digits - 1 : -(leading_fraction_zeros + 1);
  return magnitude + exponent;
}

// Whether simdjson can represent the number `token`: integers within int64 (negative) or
// uint64, other numbers finite as doubles (underflow to zero is fine).
bool NumberInRange(std::string_view token, bool is_integer) {
  const char* first = token.data();
  const char* last = token.data() + token.size();
  if (is_integer) {
    if (token[0] == '-') {
      int64_t v;
      return std::from_chars(first, last, v).ec == std::errc();
    }
    uint64_t v;
    return std::from_chars(first, last, v).ec == std::errc();
  }
  double v;
  auto res = std::from_chars(first, last, v);
  if (res.ec == std::errc::result_out_of_range) return DecimalExponent(token) <= 0;
  return res.ec == std::errc();
}

//! A small RFC 8259 syntax checker, run only on documents simdjson rejected, to find the
//! byte offset of the first bad byte (the input size when the input ends too early). It
//! mirrors simdjson's rules: strict UTF-8, no raw control characters in strings, paired
//! surrogates, integers within int64/uint64, finite doubles, a nesting limit.
class JsonSyntaxChecker {
 public:
  explicit JsonSyntaxChecker(std::string_view s) : s_(s) {}

  // The offset of the first error, or kNoError if `s` is a valid document.
  size_t FirstErrorOffset() {
    SkipWhitespace();
    if (!Value(0)) return std::min(pos_, s_.size());
    SkipWhitespace();
    return pos_ == s_.size() ? kNoError : pos_;
  }

 private:
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek() const { return s_[pos_]; }
  bool Consume(char c) {
    if (AtEnd() || Peek() != c) return false;
    ++pos_;
    return true;
  }
  void SkipWhitespace() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\n' || Peek() == '\r')) {
      ++pos_;
    }
  }

  bool Value(size_t depth) {
    if (AtEnd()) return false;
    switch (Peek()) {
      case '{': return Container(depth + 1, '}');
      case '[': return Container(depth + 1, ']');
      case '"': return String();
      case 't': return Literal("true");
      case 'f': return Literal("false");
      case 'n': return Literal("null");
      default: return Number();
    }
  }

  // An object or array; pos_ is at its opening bracket.
  bool Container(size_t depth, char close) {
    if (depth > kCheckerMaxDepth) return false;
    bool is_object = close == '}';
    ++pos_;
    SkipWhitespace();
    if (Consume(close)) return true;
    while (true) {
      SkipWhitespace();
      if (is_object) {
        if (AtEnd() || Peek() != '"' || !String()) return false;
        SkipWhitespace();
        if (!Consume(':')) return false;
        SkipWhitespace();
      }
      if (!Value(depth)) return false;
      SkipWhitespace();
      if (Consume(close)) return true;
      if (!Consume(',')) return false;
    }
  }

  bool Literal(std::string_view word) {
    for (char c : word) {
      if (!Consume(c)) return false;
    }
    return true;
  }

  bool Number() {
    size_t start = pos_;
    Consume('-');
    if (AtEnd() || !IsDigit(Peek())) return false;
    if (!Consume('0')) Digits();
    bool is_integer = true;
    if (Consume('.')) {
      is_integer = false;
      if (!Digits()) return false;
    }
    if (Consume('e') || Consume('E')) {
      is_integer = false;
      if (!Consume('+')) Consume('-');
      if (!Digits()) return false;
    }
    if (!NumberInRange(s_.substr(start, pos_ - start), is_integer)) {
      pos_ = start;
      return false;
    }
    return true;
  }

  // One or more digits.
  bool Digits() {
    size_t start = pos_;
    while (!AtEnd() && IsDigit(Peek())) ++pos_;
    return pos_ > start;
  }

  bool String() {
    ++pos_;  // the opening quote
    while (!AtEnd()) {
      auto c = static_cast<unsigned char>(Peek());
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return false;
      bool ok = c == '\\' ? Escape() : c >= 0x80 ? Utf8Sequence() : (++pos_, true);
      if (!ok) return false;
    }
    return false;
  }

  // A backslash escape; a bad one is reported at its backslash.
  bool Escape() {
    size_t start = pos_;
    ++pos_;
    if (AtEnd()) return false;
    char e = Peek();
    ++pos_;
    if (e != 'u') {
      if (std::string_view("\"\\/bfnrt").find(e) != std::string_view::npos) return true;
      pos_ = start;
      return false;
    }
    uint32_t unit = 0;
    if (!Hex4(&unit)) return false;
    if (unit >= 0xdc00 && unit <= 0xdfff) {  // a low surrogate with no high one before it
      pos_ = start;
      return false;
    }
    if (unit < 0xd800 || unit > 0xdbff) return true;
    uint32_t low = 0;
    if (!Consume('\\') || !Consume('u') || !Hex4(&low) || low < 0xdc00 || low > 0xdfff) {
      if (!AtEnd()) pos_ = start;  // a high surrogate without its low half
      return false;
    }
    return true;
  }

  bool Hex4(uint32_t* unit) {
    for (int k = 0; k < 4; ++k) {
      if (AtEnd() || !IsHexDigit(Peek())) return false;
      char c = Peek();
      uint32_t digit = IsDigit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
      *unit = (*unit << 4) | digit;
      ++pos_;
    }
    return true;
  }

  // A multi-byte UTF-8 sequence (shortest form, no surrogates, at most U+10FFFF).
  bool Utf8Sequence() {
    auto lead = static_cast<unsigned char>(Peek());
    size_t len = (lead & 0xe0) == 0xc0   ? 2
                 : (lead & 0xf0) == 0xe0 ? 3
                 : (lead & 0xf8) == 0xf0 ? 4
                                         : 0;
    if (len == 0 || pos_ + len > s_.size()) return false;
    uint32_t cp = lead & (0xff >> (len + 1));
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s_[pos_ + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    pos_ += len;
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

ApiError MakeError(int status, std::string message, std::string details_json = "{}") {
  ApiError e;
  e.status = status;
  e.message = std::move(message);
  e.details_json = std::move(details_json);
  return e;
}

// Parses `body` into `parser`'s document. On failure fills `error`: 400 with the offset of
// the first bad byte for malformed JSON or invalid UTF-8.
bool ParseJson(simdjson::dom::parser* parser, std::string_view body, element* root,
               ApiError* error) {
  simdjson::error_code ec = parser->allocate(std::max<size_t>(body.size(), 64), kMaxJsonDepth);
  if (ec == SUCCESS) ec = parser->parse(body.data(), body.size()).get(*root);
  if (ec == SUCCESS) return true;
  if (ec == simdjson::MEMALLOC) {
    *error = MakeError(503, "Out of memory while parsing the request");
    error->retry_after_seconds = 1;
    return false;
  }
  if (ec == simdjson::CAPACITY) {
    *error = MakeError(413, "Request body too large to parse");
    return false;
  }
  JsonWriter details;
  details.BeginObject();
  size_t offset = JsonSyntaxChecker(body).FirstErrorOffset();
  if (offset != kNoError) details.Field("offset", static_cast<int64_t>(offset));
  details.EndObject();
  *error = MakeError(400, std::string("Malformed JSON: ") + simdjson::error_message(ec),
                     details.Take());
  return false;
}

bool ParseObjectBody(simdjson::dom::parser* parser, std::string_view body, object* root,
                     ApiError* error) {
  element doc;
  if (!ParseJson(parser, body, &doc, error)) return false;
  if (doc.get_object().get(*root) != SUCCESS) {
    *error = MakeError(400, "Request body must be a JSON object");
    return false;
  }
  return true;
}

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


bool Fail(FieldError* fe, std::string field, std::string message) {
  fe->field = std::move(field);
  fe->message = std::move(message);
  return false;
}

bool FailLimit(FieldError* fe, LimitViolation v) {
  fe->unprocessable = true;
  fe->limit = std::move(v.limit);
  fe->max = v.max;
  fe->actual = v.actual;
  return Fail(fe, std::move(v.field), std::move(v.message));
}

ApiError FieldErrorAnswer(int status, const FieldError& fe) {
  if (fe.unprocessable) status = 422;
  JsonWriter w;
  w.BeginObject();
  fe.WriteDetails(&w);
  w.EndObject();
  return MakeError(status, fe.message, w.Take());
}

// The value of `key`, or nullopt when it is absent or null (optional fields).
std::optional<element> Optional(const object& obj, std::string_view key) {
  element value;
  if (obj.at_key(key).get(value) != SUCCESS || value.is_null()) return std::nullopt;
  return value;
}

// Unicode-aware: content of only NBSP, ideographic spaces or zero-width characters is blank.
bool IsBlank(std::string_view s) { return IsBlankText(s); }

bool GetOptionalString(const object& obj, std::string_view key, std::string* out,
                       FieldError* fe) {
  std::optional<element> v = Optional(obj, key);
  if (!v) return true;
  std::string_view s;
  if (v->get_string().get(s) != SUCCESS) {
    return Fail(fe, std::string(key), std::string(key) + " must be a string");
  }
  out->assign(s);
  return true;
}

// An integral JSON number; integral floats such as 10.0 are accepted too.
bool AsInt64(element v, int64_t* out) {
  if (v.type() == element_type::INT64) return v.get_int64().get(*out) == SUCCESS;
  if (v.type() != element_type::DOUBLE) return false;  // incl. UINT64: above every range
  double d = 0;
  if (v.get_double().get(d) != SUCCESS || !(d >= -9e18 && d <= 9e18) || std::trunc(d) != d) {
    return false;
  }
  *out = static_cast<int64_t>(d);
  return true;
}

bool GetOptionalInt(const object& obj, std::string_view key, int64_t min, int64_t max,
                    std::optional<int64_t>* out, FieldError* fe) {
  std::optional<element> v = Optional(obj, key);
  if (!v) return true;
  int64_t n = 0;
  if (!AsInt64(*v, &n) || n < min || n > max) {
    std::string range = max == std::numeric_limits<int64_t>::max()
                            ? ">= " + std::to_string(min)
                            : "between " + std::to_string(min) + " and " + std::to_string(max);
    return Fail(fe, std::string(key), std::string(key) + " must be an integer " + range);
  }
  *out = n;
  return true;
}

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
  if (!GetOptionalInt(obj, "max_memories", 1, kMaxSearchMemories, &max_memories, fe) ||
      !GetOptionalString(obj, "external_user_id", &req->external_user_id, fe)) {
    return false;
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
