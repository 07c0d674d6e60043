#pragma once
// The benchmarks' corpus: deterministic memory texts and the 300 search queries, shared by
// bench/load.cc (through HTTP) and bench/search_bench.cc (in-process) so both measure one
// workload.

#include <cstdint>
#include <string>
#include <vector>

namespace papr::bench {

// 400-600 bytes of English-like text, deterministic from the index.
inline std::string MemoryText(int64_t index) {
  static const char* kWords[] = {"the", "memory", "system", "keeps", "notes", "about", "river",
                                 "mountain", "project", "meeting", "customer", "durable", "quiet",
                                 "engine", "report", "summer", "garden", "history", "signal",
                                 "careful", "bright", "morning", "review", "budget", "travel"};
  uint64_t x = static_cast<uint64_t>(index) * 0x9e3779b97f4a7c15ULL + 1;
  size_t target = 400 + static_cast<size_t>(index % 200);
  std::string out = "entry" + std::to_string(index);
  while (out.size() < target) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    out += " ";
    out += kWords[x % (sizeof(kWords) / sizeof(kWords[0]))];
  }
  return out;
}

// 300 queries of one to three words from the texts' vocabulary.
inline std::vector<std::string> SearchQueries() {
  static const char* kWords[] = {"memory", "system", "keeps", "notes", "river", "mountain",
                                 "project", "meeting", "customer", "durable", "quiet", "engine",
                                 "report", "summer", "garden", "history", "signal", "careful",
                                 "bright", "morning", "review", "budget", "travel", "about"};
  std::vector<std::string> queries;
  uint64_t x = 0x5EA4C4;
  for (int q = 0; q < 300; ++q) {
    std::string query;
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    for (uint64_t w = 0; w <= x % 3; ++w) {
      query += std::string(w ? " " : "") + kWords[(x >> (8 * (w + 1))) % (sizeof(kWords) / sizeof(kWords[0]))];
    }
    queries.push_back(query);
  }
  return queries;
}

}  // namespace papr::bench
