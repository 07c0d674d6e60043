#pragma once
// ASCII-only case folding for protocol text (header names, URL schemes, error messages):
// locale-independent, unlike std::tolower.

#include <string>
#include <string_view>

namespace papr {

constexpr char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

// True if `s` begins with `lower_prefix` (given in lower case), ignoring the case of `s`.
constexpr bool StartsWithIgnoreCase(std::string_view s, std::string_view lower_prefix) {
  if (s.size() < lower_prefix.size()) return false;
  for (size_t i = 0; i < lower_prefix.size(); ++i) {
    if (AsciiLower(s[i]) != lower_prefix[i]) return false;
  }
  return true;
}

// True if `haystack` contains `lower_needle` (given in lower case), ignoring case.
inline bool ContainsIgnoreCase(std::string_view haystack, std::string_view lower_needle) {
  for (size_t i = 0; i + lower_needle.size() <= haystack.size(); ++i) {
    if (StartsWithIgnoreCase(haystack.substr(i), lower_needle)) return true;
  }
  return false;
}

}  // namespace papr
