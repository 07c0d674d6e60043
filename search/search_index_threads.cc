// The indexer and merger threads: each loops on its own condition until Stop.

#include "common/log.h"
#include "search/internal/search_index_rep.h"

namespace papr::search {

void SearchIndex::Rep::IndexerLoop(SearchIndex* self) {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(queue_mu);
      wake_cv.wait_for(lock, std::chrono::milliseconds(options.poll_ms),
                       [this] { return wake || stopping; });
      if (stopping) return;
      wake = false;
    }
    // Nothing could be committed (disk full): no pass, no warning every poll.
    if (db->writes_refused()) continue;
    auto taken = self->IndexQueued();
    if (!taken.ok()) {
      log::Warn("search indexer pass failed", {{"error", taken.status().ToString()}});
      continue;
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
