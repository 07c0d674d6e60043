#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/config.h"
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
  // Version 3: the memory activity's retry policy and attempt timeout, decided at submit
  // (config and the request's retry_policy) so replay and retries use what was recorded.
  // A version 2 header decodes to the defaults batches ran with then (timeout 30 s, the
  // value under the default processing.timeout_ms).
  MemoryRetryPolicy retry;
  int64_t attempt_timeout_ms = 30000;
  // The encoding version: a header re-encodes as it was decoded (a chunk of a version 2 batch
  // gets a version 2 header, byte for byte what its replay compares against).
  uint8_t format_version = 3;
};

// The policy a batch records: `configured`, with each field the request gave instead.
MemoryRetryPolicy ResolveRetryPolicy(const config::ProcessingRetry& configured,
                                     const RetryPolicyOverrides& request);

std::string EncodeBatchHeader(const BatchHeader& h);
Result<BatchHeader> DecodeBatchHeader(std::string_view bytes);

std::string EncodeMemories(const std::vector<MemoryInput>& memories);
Result<std::vector<MemoryInput>> DecodeMemories(std::string_view bytes);

//! Consecutive memories of one stored chunk: [first, first + memories.size()).
struct MemorySlice {
  int64_t first = 0;
  std::vector<MemoryInput> memories;
};

// Slices end after this many memories or once their inputs reach kSliceTargetBytes: a
// memory activity decodes the part of its chunk around it, not the chunk's 10,000 memories.
constexpr int64_t kSliceMemories = 256;
constexpr int64_t kSliceTargetBytes = 1 << 20;

// The slice of the memories blob `blob` (EncodeMemories) holding memory `offset`. Slice
// boundaries depend only on the blob, so every reader cuts the same slices.
Result<MemorySlice> DecodeMemorySlice(std::string_view blob, int64_t offset);

}  // namespace papr::workflows
