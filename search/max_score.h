#pragma once

#include <vector>

#include "common/result.h"
#include "search/block_max_wand.h"
#include "search/deletions.h"
#include "search/segment.h"
#include "search/top_k.h"

namespace papr::search {

// Docs per window of MaxScoreWindows.
constexpr uint32_t kMaxScoreWindow = 256;

// Window-at-a-time MaxScore (Turtle & Flood 1995, in windows as Lucene's MaxScoreBulkScorer)
// over one segment: the same contract as BlockMaxWand (offers `top` every live doc whose BM25
// score could enter it, scored as the sum over `terms` in their order), built for lists that
// hold most docs. Per window of kMaxScoreWindow docs each term is bounded by its block maxima
// there: a window whose bounds cannot enter `top` is skipped undecoded; otherwise the terms
// whose bounds together cannot enter are non-essential, the others are scored into a dense
// array block by block, and only docs whose partial score plus the non-essential bounds may
// still enter look the non-essential terms up. A posting whose tf is below what could enter,
// at the window's shortest doc and with every other term at its bound, marks its doc out
// without being scored. `deletions` may be null. REQUIRES: the scorers share one corpus (one
// average doc length, so one norm per doc), as SearchSegments builds them.
Status MaxScoreWindows(std::vector<WandTerm>& terms, const Segment& segment,
                       const Deletions* deletions, TopK* top);

}  // namespace papr::search
