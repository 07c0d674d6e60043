#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "search/deletions.h"
#include "search/segment.h"
#include "search/top_k.h"

namespace papr::search {

// Most distinct terms a query is searched with (bounds the work of one request); the rest
// are ignored.
constexpr size_t kMaxQueryTerms = 64;

// The distinct terms of `query`, ascending, at most kMaxQueryTerms.
std::vector<std::string> QueryTerms(std::string_view query);

//! A segment as one search sees it.
struct SegmentRef {
  const Segment* segment = nullptr;
  const Deletions* deletions = nullptr;  // may be null
};

// BM25 top `k` over the live docs of `segments` taken as one corpus: statistics (doc count,
// average length, df) summed over all of them, minus tombstoned docs, so they are exact at
// any size. `terms` as QueryTerms returns them. Best first, equal scores by memory id.
Result<std::vector<ScoredDoc>> SearchSegments(const std::vector<SegmentRef>& segments,
                                              const std::vector<std::string>& terms, size_t k);

}  // namespace papr::search
