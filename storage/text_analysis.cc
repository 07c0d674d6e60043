#include "storage/text_analysis.h"

#include <algorithm>
#include <iterator>

namespace papr::storage {
namespace {

constexpr size_t kMaxTermBytes = 64;

// A small English stop-word list, sorted for binary search.
constexpr std::string_view kStopWords[] = {
    "a",      "about",   "above",  "after",   "again",  "against", "all",  "also",    "am",
    "an",     "and",     "any",    "are",     "as",     "at",      "be",   "because", "been",
    "before", "being",   "below",  "between", "both",   "but",     "by",   "can",     "could",
    "did",    "do",      "does",   "doing",   "down",   "during",  "each", "few",     "for",
    "from",   "further", "had",    "has",     "have",   "having",  "he",   "her",     "here",
    "hers",   "herself", "him",    "himself", "his",    "how",     "i",    "if",      "in",
    "into",   "is",      "it",     "its",     "itself", "just",    "me",   "more",    "most",
    "my",     "myself",  "no",     "nor",     "not",    "now",     "of",   "off",     "on",
    "once",   "only",    "or",     "other",   "our",    "ours",    "out",  "over",    "own",
    "same",   "she",     "should", "so",      "some",   "such",    "than", "that",    "the",
    "their",  "them",    "then",   "there",   "these",  "they",    "this", "those",   "through",
    "to",     "too",     "under",  "until",   "up",     "very",    "was",  "we",      "were",
    "what",   "when",    "where",  "which",   "while",  "who",     "whom", "why",     "will",
    "with",
};

static_assert(std::is_sorted(std::begin(kStopWords), std::end(kStopWords)));

bool IsStopWord(std::string_view term) {
  return std::binary_search(std::begin(kStopWords), std::end(kStopWords), term);
}

bool IsTermByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

bool IsUtf8Continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

size_t CodePointCount(std::string_view s) {
  return std::count_if(s.begin(), s.end(),
                       [](char c) { return !IsUtf8Continuation(static_cast<unsigned char>(c)); });
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

}  // namespace

void ForEachTerm(std::string_view text, const std::function<void(std::string_view)>& fn) {
  // The run's first kMaxTermBytes + 1 bytes: enough to cut an over-long term to at most
  // kMaxTermBytes without splitting a UTF-8 sequence.
  char buf[kMaxTermBytes + 1];
  size_t len = 0;  // bytes of the current run, past the buffer too
  auto flush = [&] {
    if (len == 0) return;
    size_t size = len;
    if (size > kMaxTermBytes) {
      size = kMaxTermBytes;
      while (size > 0 && IsUtf8Continuation(static_cast<unsigned char>(buf[size]))) --size;
    }
    fn(std::string_view(buf, size));
    len = 0;
  };
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (!IsTermByte(c)) {
      flush();
      continue;
    }
    if (len < sizeof(buf)) buf[len] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : ch;
    ++len;
  }
  flush();
}

std::vector<std::string> Tokenize(std::string_view text) {
  std::vector<std::string> terms;
  ForEachTerm(text, [&terms](std::string_view term) { terms.emplace_back(term); });
  return terms;
}

int64_t CountWords(std::string_view text) {
  int64_t words = 0;
  bool in_word = false;
  for (char c : text) {
    bool space = IsSpace(c);
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

std::vector<std::string> ExtractKeywords(std::string_view text, size_t max_keywords) {
  // Sorting a memory's few dozen terms beats a hash map of them (a node per distinct term
  // was a tenth of a batch's CPU on the server).
  struct Occurrence {
    std::string term;
    size_t position;  // among the kept terms
  };
  std::vector<Occurrence> terms;
  ForEachTerm(text, [&terms](std::string_view term) {
    if (CodePointCount(term) >= 3 && !IsStopWord(term)) terms.push_back({std::string(term), terms.size()});
  });
  std::sort(terms.begin(), terms.end(), [](const Occurrence& a, const Occurrence& b) {
    return a.term != b.term ? a.term < b.term : a.position < b.position;
  });
  struct Counted {
    size_t count;
    size_t first;  // position of the first occurrence
    size_t at;     // index in `terms`
  };
  std::vector<Counted> counted;
  for (size_t i = 0, j; i < terms.size(); i = j) {
    for (j = i + 1; j < terms.size() && terms[j].term == terms[i].term;) ++j;
    counted.push_back({j - i, terms[i].position, i});
  }
  // By count, equal counts in first-occurrence order.
  size_t n = std::min(max_keywords, counted.size());
  std::partial_sort(counted.begin(), counted.begin() + static_cast<std::ptrdiff_t>(n), counted.end(),
                    [](const Counted& a, const Counted& b) {
                      return a.count != b.count ? a.count > b.count : a.first < b.first;
                    });
  std::vector<std::string> keywords;
  keywords.reserve(n);
  for (size_t i = 0; i < n; ++i) keywords.push_back(std::move(terms[counted[i].at].term));
  return keywords;
}

}  // namespace papr::storage
