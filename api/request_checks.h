#pragma once

#include <cstddef>
#include <string_view>

namespace papr::api {

// Small checks of request text shared by the router and the decoders.

// True if `content_type` is application/json, with parameters allowed but a charset, if
// given, only utf-8 (RFC 8259: JSON is UTF-8). Case-insensitive.
bool IsJsonContentType(std::string_view content_type);

// True if `s` holds nothing but whitespace or invisible characters: ASCII whitespace and the
// Unicode White_Space characters (U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
// U+202F, U+205F, U+3000) plus the zero-width ones (U+180E, U+200B-U+200D, U+2060, U+FEFF).
// REQUIRES: `s` is valid UTF-8 (the JSON decoder checked it).
bool IsBlankText(std::string_view s);

// Longest end-user id (external_user_id, a user's external_id) accepted, in bytes.
inline constexpr size_t kMaxEndUserIdBytes = 256;
// True if `s` is 1 to `max_bytes` bytes without a control character (C0 or DEL).
bool IsPrintableText(std::string_view s, size_t max_bytes);
// True if `id` can name an end user: IsPrintableText within kMaxEndUserIdBytes.
inline bool IsValidEndUserId(std::string_view id) {
  return IsPrintableText(id, kMaxEndUserIdBytes);
}

}  // namespace papr::api
