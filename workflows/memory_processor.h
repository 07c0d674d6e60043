#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "config/config.h"
#include "storage/memory_record.h"
#include "storage/memory_store.h"
#include "workflows/batch_types.h"

namespace papr::workflows {

//! Where one memory is to be stored: its owner, deterministic id and batch position.
struct MemoryTarget {
  std::string user_id;
  std::string memory_id;
  std::string batch_id;      // empty for single adds
  int64_t batch_index = -1;
  // When set, the store's writes are added here instead of written: the engine commits them
  // atomically with the activity's completion event.
  storage::WriteBatch* defer_writes_to = nullptr;
  // Called about every second while the processing endpoint is waited for (an activity
  // heartbeat). Optional.
  std::function<void()> on_progress;
  // False only when nothing can have stored this memory yet (with defer_writes_to: the first
  // attempt of a freshly dispatched activity, whose completion commit is the only writer of
  // the id); then Process skips looking for it. The commit's Insert still refuses a taken id.
  bool may_exist = true;
};

//! Processes one memory: validate, derive (content hash, word count, keywords), optionally
//! enrich through `processing.endpoint`, and store idempotently. Shared by single adds, the
//! OSS executor and the engine's activities. Thread-safe.
//! Errors: InvalidArgument (bad input or a 4xx from the endpoint: do not retry),
//! Unavailable/DeadlineExceeded (endpoint trouble: retry), IoError (store).
class MemoryProcessor {
 public:
  MemoryProcessor(storage::MemoryStore* store, config::Processing processing,
                  int64_t max_content_bytes, const Clock* clock);

  // Returns the stored record; when the id was stored before, the earlier record.
  Result<storage::MemoryRecord> Process(const MemoryTarget& target, const MemoryInput& input);

  // Memory id of item `index` of batch `batch_id`: the same on every run.
  static std::string BatchMemoryId(const std::string& batch_id, int64_t index);

 private:
  Result<std::string> Enrich(const MemoryTarget& target, const MemoryInput& input) const;

  storage::MemoryStore* store_;
  config::Processing processing_;
  int64_t max_content_bytes_;
  const Clock* clock_;
};

// InvalidArgument when `input` may not be stored (empty or oversized content, unknown type).
Status ValidateMemoryInput(const MemoryInput& input, int64_t max_content_bytes);

// HTTP-like code for an item error of this status (422 invalid, 502 endpoint, 500 other).
int64_t ItemErrorCode(const Status& status);

}  // namespace papr::workflows
