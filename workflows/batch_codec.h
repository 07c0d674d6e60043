#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "workflows/batch_types.h"

namespace papr::workflows {

//! The small part of a durable batch's input, carried in WorkflowExecutionStarted. The
//! memories themselves are stored once in a blob (EncodeMemories) and referenced by batch id.
struct BatchHeader {
  std::string user_id;
  int64_t total = 0;
  int64_t max_concurrency = 0;
  int64_t tolerated_failure_count = -1;       // -1: no limit
  double tolerated_failure_percentage = -1;   // -1: no limit
  std::string webhook_url;  // the secret is not here: it is kept out of histories (a blob)
  std::string body_hash;
  std::string idempotency_key;
  int64_t total_content_size = 0;
  // Chunks of big batches run as child workflows: the memories [lo, hi) of the batch
  // `root_batch_id` (empty for the batch's own, root execution; then lo = 0, hi = total).
  int64_t lo = 0;
  int64_t hi = 0;
  std::string root_batch_id;
  // Decided at submit, so a resumed batch behaves as it began even if the config changed:
  // memories in flight (max_concurrency above, resolved) and the webhook retry schedule.
  std::vector<int64_t> webhook_schedule_seconds;
};

std::string EncodeBatchHeader(const BatchHeader& h);
Result<BatchHeader> DecodeBatchHeader(std::string_view bytes);

std::string EncodeMemories(const std::vector<MemoryInput>& memories);
Result<std::vector<MemoryInput>> DecodeMemories(std::string_view bytes);

}  // namespace papr::workflows
