#pragma once

#include <vector>

#include "common/result.h"
#include "search/bm25.h"
#include "search/deletions.h"
#include "search/posting_cursor.h"
#include "search/segment.h"
#include "search/top_k.h"

namespace papr::search {

//! One query term over one segment: its cursor, scorer and score bounds (whole list and per
//! block, the best score over the block's stored impacts).
struct WandTerm {
  WandTerm(const TermInfo& info, TermScorer term_scorer);

  PostingCursor cursor;
  TermScorer scorer;
  double max_score = 0;
  std::vector<double> block_max;
};

// Block-max WAND (Ding & Suel 2011) over one segment: offers `top` every live doc whose BM25
// score (the sum over `terms`, in their order) could enter it, skipping docs and whole blocks
// whose bounds cannot. `terms` in query-term order; `deletions` may be null.
Status BlockMaxWand(std::vector<WandTerm>& terms, const Segment& segment,
                    const Deletions* deletions, TopK* top);

}  // namespace papr::search
