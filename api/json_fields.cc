// The JSON body helpers of the request decoders: parsing with the offset of a syntax error,
// and optional fields with the errors that name them.

#include "api/internal/json_fields.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

#include "api/request_checks.h"
#include "common/ascii.h"

namespace papr::api::internal {

using simdjson::SUCCESS;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

namespace {

// simdjson's nesting limit. The syntax checker stops two levels earlier, so it locates
// every depth error simdjson reports (simdjson counts scalars in the deepest level).
constexpr size_t kMaxJsonDepth = 256;
constexpr size_t kCheckerMaxDepth = kMaxJsonDepth - 2;
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

}  // namespace

ApiError MakeError(int status, std::string message, std::string details_json) {
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
}  // namespace papr::api::internal
