#pragma once

// The oracle: BM25 by brute force over an explicit corpus, no index. Search results must
// equal its top-k exactly (ids, order, and scores).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "search/bm25.h"
#include "storage/text_analysis.h"

namespace papr::search::testing {

struct CorpusDoc {
  std::string memory_id;
  std::string content;
};

struct OracleHit {
  std::string memory_id;
  double score = 0;
};

//! The corpus tokenized once; every Search scores every doc.
class BruteForceIndex {
 public:
  explicit BruteForceIndex(const std::vector<CorpusDoc>& corpus) : corpus_(corpus) {
    tfs_.resize(corpus.size());
    lens_.resize(corpus.size());
    for (size_t i = 0; i < corpus.size(); ++i) {
      auto tokens = storage::Tokenize(corpus[i].content);
      lens_[i] = static_cast<uint32_t>(tokens.size());
      total_ += lens_[i];
      for (auto& t : tokens) ++tfs_[i][t];
    }
  }

  std::vector<OracleHit> Search(const std::vector<std::string>& terms, size_t k) const {
    std::vector<uint64_t> df(terms.size(), 0);
    for (size_t t = 0; t < terms.size(); ++t) {
      for (const auto& doc : tfs_) df[t] += doc.contains(terms[t]) ? 1 : 0;
    }
    std::vector<OracleHit> hits;
    for (size_t i = 0; i < corpus_.size(); ++i) {
      double score = 0;
      bool matched = false;
      for (size_t t = 0; t < terms.size(); ++t) {
        auto it = tfs_[i].find(terms[t]);
        if (it == tfs_[i].end()) continue;
        matched = true;
        score += TermScorer(corpus_.size(), total_, df[t]).Score(it->second, lens_[i]);
      }
      if (matched) hits.push_back({corpus_[i].memory_id, score});
    }
    std::sort(hits.begin(), hits.end(), [](const OracleHit& a, const OracleHit& b) {
      return a.score != b.score ? a.score > b.score : a.memory_id < b.memory_id;
    });
    if (hits.size() > k) hits.resize(k);
    return hits;
  }

 private:
  std::vector<CorpusDoc> corpus_;
  std::vector<std::map<std::string, uint32_t>> tfs_;
  std::vector<uint32_t> lens_;
  uint64_t total_ = 0;
};

inline std::vector<OracleHit> BruteForceBm25(const std::vector<CorpusDoc>& corpus,
                                             const std::vector<std::string>& terms, size_t k) {
  return BruteForceIndex(corpus).Search(terms, k);
}

// A deterministic corpus with a Zipf-like vocabulary: a few terms in most docs (their posting
// lists span many blocks), many rare ones.
inline std::vector<CorpusDoc> GeneratedCorpus(size_t docs, uint64_t seed, size_t first_id = 0) {
  std::vector<CorpusDoc> corpus;
  uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
  auto next = [&x] {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return x;
  };
  for (size_t d = 0; d < docs; ++d) {
    size_t len = 3 + next() % 60;
    std::string text;
    for (size_t w = 0; w < len; ++w) {
      // Rank r with probability ~ 1/r over 5,000 words.
      double u = static_cast<double>(next() % 1'000'000) / 1'000'000.0;
      auto rank = static_cast<uint64_t>(std::pow(5000.0, u));
      text += "w" + std::to_string(rank) + " ";
    }
    char id[32];
    std::snprintf(id, sizeof(id), "mem-%08zu", first_id + d);
    corpus.push_back({id, text});
  }
  return corpus;
}

// Queries of one to three words, mixing common and rare terms.
inline std::vector<std::string> GeneratedQueries(size_t n, uint64_t seed) {
  std::vector<std::string> queries;
  uint64_t x = seed * 0xbf58476d1ce4e5b9ULL + 7;
  auto next = [&x] {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return x;
  };
  for (size_t q = 0; q < n; ++q) {
    size_t words = 1 + next() % 3;
    std::string query;
    for (size_t w = 0; w < words; ++w) {
      double u = static_cast<double>(next() % 1'000'000) / 1'000'000.0;
      query += "w" + std::to_string(static_cast<uint64_t>(std::pow(5000.0, u))) + " ";
    }
    queries.push_back(query);
  }
  return queries;
}

}  // namespace papr::search::testing
