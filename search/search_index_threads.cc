// The indexer and merger threads: each loops on its own condition until Stop.

#include <algorithm>

#include "common/log.h"
#include "search/internal/search_index_rep.h"

namespace papr::search {

void SearchIndex::Rep::IndexerLoop(SearchIndex* self) {
  constexpr int kMaxFailurePauseMs = 2000;
  int failures = 0;  // passes failed in a row (a store that is down): back off, log once
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(queue_mu);
      int pause_ms = failures == 0 ? options.poll_ms
                                   : std::min(kMaxFailurePauseMs, options.poll_ms << std::min(failures, 6));
      wake_cv.wait_for(lock, std::chrono::milliseconds(pause_ms),
                       [&] { return (wake && failures == 0) || stopping; });
      if (stopping) return;
      wake = false;
    }
    // Nothing could be committed (disk full): no pass, no warning every poll.
    if (db->writes_refused()) continue;
    auto taken = self->IndexQueued();
    if (!taken.ok()) {
      if (failures++ == 0) {
        log::Warn("search indexer pass failed; retrying with backoff",
                  {{"error", taken.status().ToString()}});
      }
      continue;
    }
    if (failures > 0) {
      log::Info("search indexer passes succeed again", {{"failed_passes", std::to_string(failures)}});
      failures = 0;
    }
    // A full pass may have left more: go on without waiting.
    if (*taken >= options.max_docs_per_pass) {
      std::lock_guard<std::mutex> lock(queue_mu);
      wake = true;
    }
  }
}

void SearchIndex::Rep::MergerLoop(SearchIndex* self) {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(queue_mu);
      merge_cv.wait_for(lock, std::chrono::seconds(1),
                        [this] { return merge_wanted || stopping; });
      if (stopping) return;
      merge_wanted = false;
    }
    for (;;) {
      auto merged = self->MergeOnce();
      if (!merged.ok()) {
        log::Warn("search merge failed", {{"error", merged.status().ToString()}});
        break;
      }
      std::lock_guard<std::mutex> lock(queue_mu);
      if (!*merged || stopping) break;
    }
  }
}

}  // namespace papr::search
