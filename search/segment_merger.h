#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "search/deletions.h"
#include "search/segment.h"

namespace papr::search {

//! A segment with the deletions to apply when merging it.
struct MergeInput {
  const Segment* segment = nullptr;
  const Deletions* deletions = nullptr;  // may be null
};

constexpr uint32_t kDroppedDoc = UINT32_MAX;

//! The result of a merge: the new segment's bytes and, per input, old doc -> new doc
//! (kDroppedDoc for deleted docs).
struct MergeOutput {
  std::string bytes;
  std::vector<std::vector<uint32_t>> doc_maps;
};

// Concatenates the inputs' live docs in input order (so doc order, and with it every posting
// list, stays sorted without re-sorting) and merges their posting lists term by term.
Result<MergeOutput> MergeSegments(const std::vector<MergeInput>& inputs);

}  // namespace papr::search
