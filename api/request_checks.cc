#include "api/request_checks.h"

#include <array>
#include <cstdint>

#include "common/ascii.h"

namespace papr::api {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// White_Space outside ASCII and U+2000-U+200A, and the zero-width characters.
constexpr std::array<uint32_t, 14> kBlankCodePoints = {
    0x85,   0xa0,   0x1680, 0x180e, 0x200b, 0x200c, 0x200d,
    0x2028, 0x2029, 0x202f, 0x205f, 0x2060, 0x3000, 0xfeff};

bool IsBlankCodePoint(uint32_t cp) {
  if (cp == ' ' || (cp >= 0x09 && cp <= 0x0d)) return true;
  if (cp >= 0x2000 && cp <= 0x200a) return true;
  for (uint32_t b : kBlankCodePoints) {
    if (cp == b) return true;
  }
  return false;
}

// Decodes the UTF-8 sequence at s[*i] and advances *i past it.
uint32_t NextCodePoint(std::string_view s, size_t* i) {
  auto lead = static_cast<unsigned char>(s[*i]);
  size_t len = lead < 0x80 ? 1 : (lead & 0xe0) == 0xc0 ? 2 : (lead & 0xf0) == 0xe0 ? 3 : 4;
  uint32_t cp = len == 1 ? lead : lead & (0xff >> (len + 1));
  for (size_t k = 1; k < len && *i + k < s.size(); ++k) {
    cp = (cp << 6) | (static_cast<unsigned char>(s[*i + k]) & 0x3f);
  }
  *i += len;
  return cp;
}

}  // namespace

bool IsJsonContentType(std::string_view content_type) {
  size_t semi = content_type.find(';');
  if (AsciiLower(Trim(content_type.substr(0, semi))) != "application/json") return false;
  while (semi != std::string_view::npos) {
    std::string_view rest = content_type.substr(semi + 1);
    semi = rest.find(';');
    std::string param = AsciiLower(Trim(rest.substr(0, semi)));
    if (param.rfind("charset=", 0) != 0) continue;
    std::string charset = param.substr(8);
    if (charset != "utf-8" && charset != "\"utf-8\"" && charset != "utf8") return false;
  }
  return true;
}

bool IsBlankText(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (!IsBlankCodePoint(NextCodePoint(s, &i))) return false;
  }
  return true;
}

bool IsPrintableText(std::string_view s, size_t max_bytes) {
  if (s.empty() || s.size() > max_bytes) return false;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace papr::api
