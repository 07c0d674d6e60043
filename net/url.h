#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace papr::net {

//! An absolute http(s) URL as outgoing calls use it.
struct Url {
  std::string scheme;  // http | https (lowercase)
  std::string host;    // DNS name (lowercase), IPv4 text, or IPv6 literal without brackets
  std::string port;    // defaulted from the scheme
  std::string target;  // path + query, at least "/"; no fragment
};

// The longest URL accepted, in bytes.
inline constexpr size_t kMaxUrlBytes = 2048;

// Strict parse of an absolute http:// or https:// URL (RFC 3986): only RFC 3986 characters
// (no control bytes, spaces or non-ASCII; '%' only before two hex digits), no userinfo, a host
// that is a DNS name (letters, digits, '-', '.', labels of 1-63), an IPv4 text or a bracketed
// IPv6 literal (no zone), a port 1-65535, a path starting with '/'. The fragment is dropped.
// InvalidArgument naming the part at fault otherwise. Everything it returns is safe to put
// on an HTTP request line and in a Host header.
Result<Url> ParseUrl(std::string_view url);

// True if `s` holds a byte that may not appear in an HTTP request line or header value
// (CTL: 0x00-0x1f except HTAB, and 0x7f).
bool HasControlByte(std::string_view s);

}  // namespace papr::net
