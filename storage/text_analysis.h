#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace papr::storage {

// Splits text into lowercase search terms: runs of ASCII letters/digits and any non-ASCII
// UTF-8 bytes; everything else separates. Terms longer than 64 bytes are truncated.
std::vector<std::string> Tokenize(std::string_view text);
// Calls `fn` with each term Tokenize(text) returns, in order, without allocating them (the
// view is valid during the call only): for callers that only count or look terms up.
void ForEachTerm(std::string_view text, const std::function<void(std::string_view)>& fn);

// Number of whitespace-separated words.
int64_t CountWords(std::string_view text);

// Up to `max_keywords` most frequent terms that are not English stop words and are at least
// 3 characters long; ties broken by first occurrence. Deterministic.
std::vector<std::string> ExtractKeywords(std::string_view text, size_t max_keywords = 10);

}  // namespace papr::storage
