#include "workflows/batch_codec.h"

#include <cstring>

#include "common/byte_codec.h"

namespace papr::workflows {
namespace {
// 2: webhook secret moved out of the header (into a blob); concurrency resolved at submit,
// webhook schedule and chunk range added. Version 1 headers are refused, not misread.
// 3: the memory retry policy and attempt timeout appended (a version 2 header decodes with
// the defaults it ran with).
constexpr uint8_t kHeaderVersion = 3;
constexpr uint8_t kOldestHeaderVersion = 2;

void PutRetry(std::string* out, const MemoryRetryPolicy& r, int64_t attempt_timeout_ms) {
  PutSignedVarint64(out, r.initial_interval_ms);
  uint64_t bits;
  std::memcpy(&bits, &r.backoff_coefficient, sizeof(double));
  PutFixed64BE(out, bits);
  PutSignedVarint64(out, r.maximum_interval_ms);
  PutSignedVarint64(out, r.maximum_attempts);
  PutVarint64(out, r.non_retryable_error_types.size());
  for (const auto& t : r.non_retryable_error_types) PutLengthPrefixed(out, t);
  PutSignedVarint64(out, attempt_timeout_ms);
}

bool GetRetry(std::string_view* in, MemoryRetryPolicy* r, int64_t* attempt_timeout_ms) {
  uint64_t bits = 0, n = 0;
  bool ok = GetSignedVarint64(in, &r->initial_interval_ms) && GetFixed64BE(in, &bits) &&
            GetSignedVarint64(in, &r->maximum_interval_ms) &&
            GetSignedVarint64(in, &r->maximum_attempts) && GetVarint64(in, &n) && n <= in->size();
  r->non_retryable_error_types.clear();
  for (uint64_t i = 0; ok && i < n; ++i) {
    std::string t;
    ok = GetLengthPrefixed(in, &t);
    r->non_retryable_error_types.push_back(std::move(t));
  }
  std::memcpy(&r->backoff_coefficient, &bits, sizeof(double));
  return ok && GetSignedVarint64(in, attempt_timeout_ms);
}
constexpr uint8_t kMemoriesVersion = 1;
}  // namespace

std::string EncodeBatchHeader(const BatchHeader& h) {
  uint8_t version = h.format_version == kOldestHeaderVersion ? kOldestHeaderVersion : kHeaderVersion;
  std::string out(1, static_cast<char>(version));
  PutLengthPrefixed(&out, h.user_id);
  PutSignedVarint64(&out, h.total);
  PutSignedVarint64(&out, h.max_concurrency);
  PutSignedVarint64(&out, h.tolerated_failure_count);
  uint64_t pct_bits;
  std::memcpy(&pct_bits, &h.tolerated_failure_percentage, sizeof(double));
  PutFixed64BE(&out, pct_bits);
  PutLengthPrefixed(&out, h.webhook_url);
  PutLengthPrefixed(&out, h.body_hash);
  PutLengthPrefixed(&out, h.idempotency_key);
  PutSignedVarint64(&out, h.total_content_size);
  PutSignedVarint64(&out, h.lo);
  PutSignedVarint64(&out, h.hi);
  PutLengthPrefixed(&out, h.root_batch_id);
  PutVarint64(&out, h.webhook_schedule_seconds.size());
  for (int64_t s : h.webhook_schedule_seconds) PutSignedVarint64(&out, s);
  if (version >= 3) PutRetry(&out, h.retry, h.attempt_timeout_ms);
  return out;
}

Result<BatchHeader> DecodeBatchHeader(std::string_view in) {
  BatchHeader h;
  uint64_t pct_bits = 0;
  uint8_t version = in.empty() ? 0 : static_cast<uint8_t>(in[0]);
  if (version < kOldestHeaderVersion || version > kHeaderVersion) {
    return Status::Corruption("batch header: unknown version");
  }
  in.remove_prefix(1);
  h.format_version = version;
  bool ok = GetLengthPrefixed(&in, &h.user_id) && GetSignedVarint64(&in, &h.total) &&
            GetSignedVarint64(&in, &h.max_concurrency) &&
            GetSignedVarint64(&in, &h.tolerated_failure_count) && GetFixed64BE(&in, &pct_bits) &&
            GetLengthPrefixed(&in, &h.webhook_url) &&
            GetLengthPrefixed(&in, &h.body_hash) && GetLengthPrefixed(&in, &h.idempotency_key) &&
            GetSignedVarint64(&in, &h.total_content_size) && GetSignedVarint64(&in, &h.lo) &&
            GetSignedVarint64(&in, &h.hi) && GetLengthPrefixed(&in, &h.root_batch_id);
  uint64_t n = 0;
  ok = ok && GetVarint64(&in, &n) && n <= in.size();
  for (uint64_t i = 0; ok && i < n; ++i) {
    int64_t s = 0;
    ok = GetSignedVarint64(&in, &s);
    h.webhook_schedule_seconds.push_back(s);
  }
  if (ok && version >= 3) ok = GetRetry(&in, &h.retry, &h.attempt_timeout_ms);
  if (!ok) return Status::Corruption("batch header truncated");
  std::memcpy(&h.tolerated_failure_percentage, &pct_bits, sizeof(double));
  return h;
}

MemoryRetryPolicy ResolveRetryPolicy(const config::ProcessingRetry& c,
                                     const RetryPolicyOverrides& r) {
  MemoryRetryPolicy p;
  p.initial_interval_ms = r.initial_interval_ms.value_or(c.initial_interval_ms);
  p.backoff_coefficient = r.backoff_coefficient.value_or(c.backoff_coefficient);
  p.maximum_interval_ms = r.maximum_interval_ms.value_or(c.maximum_interval_ms);
  p.maximum_attempts = r.maximum_attempts.value_or(c.maximum_attempts);
  p.non_retryable_error_types = r.non_retryable_error_types.value_or(c.non_retryable_error_types);
  return p;
}

std::string EncodeMemories(const std::vector<MemoryInput>& memories) {
  std::string out(1, static_cast<char>(kMemoriesVersion));
  PutVarint64(&out, memories.size());
  for (const auto& m : memories) {
    PutLengthPrefixed(&out, m.content);
    PutLengthPrefixed(&out, m.type);
    PutLengthPrefixed(&out, m.metadata_json);
    PutLengthPrefixed(&out, m.context_json);
    PutLengthPrefixed(&out, m.external_user_id);
  }
  return out;
}

namespace {
constexpr int kMemoryFields = 5;  // content, type, metadata_json, context_json, external_user_id

// Skips one encoded memory; false when truncated. `bytes` gets its fields' total size.
bool SkipMemory(std::string_view* in, int64_t* bytes) {
  std::string_view field;
  *bytes = 0;
  for (int f = 0; f < kMemoryFields; ++f) {
    if (!GetLengthPrefixed(in, &field)) return false;
    *bytes += static_cast<int64_t>(field.size());
  }
  return true;
}

bool GetMemory(std::string_view* in, MemoryInput* m) {
  return GetLengthPrefixed(in, &m->content) && GetLengthPrefixed(in, &m->type) &&
         GetLengthPrefixed(in, &m->metadata_json) && GetLengthPrefixed(in, &m->context_json) &&
         GetLengthPrefixed(in, &m->external_user_id);
}
}  // namespace

Result<MemorySlice> DecodeMemorySlice(std::string_view in, int64_t offset) {
  if (in.empty() || static_cast<uint8_t>(in[0]) != kMemoriesVersion) {
    return Status::Corruption("memories blob: unknown version");
  }
  in.remove_prefix(1);
  uint64_t n;
  if (!GetVarint64(&in, &n) || n > in.size()) return Status::Corruption("memories blob truncated");
  if (offset < 0 || static_cast<uint64_t>(offset) >= n) {
    return Status::InvalidArgument("memory index out of range");
  }
  // Walk the slice boundaries (lengths only) up to the slice holding `offset`.
  MemorySlice slice;
  std::string_view start = in;
  int64_t count = 0, bytes = 0, size = 0;
  for (int64_t i = 0; i < offset; ++i) {
    if (!SkipMemory(&in, &size)) return Status::Corruption("memories blob truncated");
    ++count;
    bytes += size;
    if (count == kSliceMemories || bytes >= kSliceTargetBytes) {
      slice.first = i + 1;
      start = in;
      count = bytes = 0;
    }
  }
  in = start;
  count = bytes = 0;
  for (int64_t i = slice.first; i < static_cast<int64_t>(n); ++i) {
    MemoryInput m;
    if (!GetMemory(&in, &m)) return Status::Corruption("memories blob truncated");
    bytes += static_cast<int64_t>(m.content.size() + m.type.size() + m.metadata_json.size() +
                                  m.context_json.size() + m.external_user_id.size());
    slice.memories.push_back(std::move(m));
    if (++count == kSliceMemories || bytes >= kSliceTargetBytes) break;
  }
  return slice;
}

Result<std::vector<MemoryInput>> DecodeMemories(std::string_view in) {
  if (in.empty() || static_cast<uint8_t>(in[0]) != kMemoriesVersion) {
    return Status::Corruption("memories blob: unknown version");
  }
  in.remove_prefix(1);
  uint64_t n;
  if (!GetVarint64(&in, &n) || n > in.size()) return Status::Corruption("memories blob truncated");
  std::vector<MemoryInput> out(n);
  for (auto& m : out) {
    if (!GetMemory(&in, &m)) return Status::Corruption("memories blob truncated");
  }
  return out;
}

}  // namespace papr::workflows
