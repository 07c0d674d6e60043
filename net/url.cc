#include "net/url.h"

#include <boost/asio/ip/address_v6.hpp>

#include "common/ascii.h"

namespace papr::net {
namespace {

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// RFC 3986 section 2: unreserved, gen-delims and sub-delims ('%' is checked separately).
bool IsUriChar(char c) {
  static constexpr std::string_view kOther = "-._~:/?#[]@!$&'()*+,;=";
  return IsAlpha(c) || IsDigit(c) || kOther.find(c) != std::string_view::npos;
}

Status Bad(const std::string& why) { return Status::InvalidArgument("URL " + why); }

Status CheckCharacters(std::string_view url) {
  if (url.size() > kMaxUrlBytes) {
    return Bad("is longer than " + std::to_string(kMaxUrlBytes) + " bytes");
  }
  for (size_t i = 0; i < url.size(); ++i) {
    char c = url[i];
    if (c == '%') {
      if (i + 2 >= url.size() || !IsHex(url[i + 1]) || !IsHex(url[i + 2])) {
        return Bad("has a '%' not followed by two hex digits (offset " + std::to_string(i) + ")");
      }
      continue;
    }
    if (!IsUriChar(c)) {
      auto byte = static_cast<unsigned char>(c);
      return Bad("has a character not allowed in a URL (byte 0x" +
                 std::string(1, "0123456789abcdef"[byte >> 4]) +
                 std::string(1, "0123456789abcdef"[byte & 15]) + " at offset " +
                 std::to_string(i) + ")");
    }
  }
  return Status::Ok();
}

// A DNS name or IPv4 text: labels of letters, digits and '-', 1-63 bytes, 253 in all.
Status CheckRegName(std::string_view host) {
  if (host.empty()) return Bad("has no host");
  if (host.size() > 253) return Bad("host is longer than 253 bytes");
  size_t label = 0;
  for (size_t i = 0; i <= host.size(); ++i) {
    if (i == host.size() || host[i] == '.') {
      if (label == 0) return Bad("host has an empty label");
      label = 0;
      continue;
    }
    char c = host[i];
    if (!IsAlpha(c) && !IsDigit(c) && c != '-') {
      return Bad("host may hold only letters, digits, '-' and '.'");
    }
    if (++label > 63) return Bad("host has a label longer than 63 bytes");
  }
  return Status::Ok();
}

Status ParsePort(std::string_view text, std::string* port) {
  if (text.empty() || text.size() > 5) return Bad("port is out of range (1-65535)");
  int value = 0;
  for (char c : text) {
    if (!IsDigit(c)) return Bad("port is not a number");
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > 65535) return Bad("port is out of range (1-65535)");
  *port = std::to_string(value);
  return Status::Ok();
}

// host[:port] or [v6][:port], without userinfo.
Status ParseAuthority(std::string_view authority, Url* out) {
  if (authority.find('@') != std::string_view::npos) return Bad("must not contain credentials");
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Bad("has a bad IPv6 host");
    std::string literal(authority.substr(1, close - 1));
    boost::system::error_code ec;
    boost::asio::ip::make_address_v6(literal, ec);
    if (ec || literal.find('%') != std::string::npos) return Bad("has a bad IPv6 host");
    out->host = AsciiLower(literal);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') {
      return Bad("has unexpected text after the IPv6 host");
    }
    has_port = !after.empty();
    if (has_port) port_text = after.substr(1);
  } else {
    size_t colon = authority.find(':');
    std::string_view host = authority.substr(0, colon);
    RETURN_IF_ERROR(CheckRegName(host));
    out->host = AsciiLower(host);
    has_port = colon != std::string_view::npos;
    if (has_port) port_text = authority.substr(colon + 1);
  }
  if (has_port) return ParsePort(port_text, &out->port);
  out->port = out->scheme == "https" ? "443" : "80";
  return Status::Ok();
}

}  // namespace

bool HasControlByte(std::string_view s) {
  for (char c : s) {
    auto b = static_cast<unsigned char>(c);
    if ((b < 0x20 && b != '\t') || b == 0x7f) return true;
  }
  return false;
}

Result<Url> ParseUrl(std::string_view url) {
  RETURN_IF_ERROR(CheckCharacters(url));
  Url out;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return Bad("has no scheme");
  out.scheme = AsciiLower(url.substr(0, scheme_end));
  if (out.scheme != "http" && out.scheme != "https") return Bad("scheme must be http or https");
  std::string_view rest = url.substr(scheme_end + 3);
  size_t path_start = rest.find_first_of("/?#");
  RETURN_IF_ERROR(ParseAuthority(rest.substr(0, path_start), &out));
  std::string_view target =
      path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  target = target.substr(0, target.find('#'));
  if (target.find_first_of("[]") != std::string_view::npos) {
    return Bad("path or query holds '[' or ']'");
  }
  out.target = target.empty() || target.front() != '/' ? "/" + std::string(target)
                                                       : std::string(target);
  return out;
}

}  // namespace papr::net
