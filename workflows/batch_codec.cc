#include "workflows/batch_codec.h"

#include <cstring>

#include "common/byte_codec.h"

namespace papr::workflows {
namespace {
// 2: webhook secret moved out of the header (into a blob); concurrency resolved at submit,
// webhook schedule and chunk range added. Version 1 headers are refused, not misread.
constexpr uint8_t kHeaderVersion = 2;
constexpr uint8_t kMemoriesVersion = 1;
}  // namespace

std::string EncodeBatchHeader(const BatchHeader& h) {
  std::string out(1, static_cast<char>(kHeaderVersion));
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
  return out;
}

Result<BatchHeader> DecodeBatchHeader(std::string_view in) {
  BatchHeader h;
  uint64_t pct_bits = 0;
  if (in.empty() || static_cast<uint8_t>(in[0]) != kHeaderVersion) {
    return Status::Corruption("batch header: unknown version");
  }
  in.remove_prefix(1);
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
  if (!ok) return Status::Corruption("batch header truncated");
  std::memcpy(&h.tolerated_failure_percentage, &pct_bits, sizeof(double));
  return h;
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

Result<std::vector<MemoryInput>> DecodeMemories(std::string_view in) {
  if (in.empty() || static_cast<uint8_t>(in[0]) != kMemoriesVersion) {
    return Status::Corruption("memories blob: unknown version");
  }
  in.remove_prefix(1);
  uint64_t n;
  if (!GetVarint64(&in, &n) || n > in.size()) return Status::Corruption("memories blob truncated");
  std::vector<MemoryInput> out(n);
  for (auto& m : out) {
    if (!GetLengthPrefixed(&in, &m.content) || !GetLengthPrefixed(&in, &m.type) ||
        !GetLengthPrefixed(&in, &m.metadata_json) || !GetLengthPrefixed(&in, &m.context_json) ||
        !GetLengthPrefixed(&in, &m.external_user_id)) {
      return Status::Corruption("memories blob truncated");
    }
  }
  return out;
}

}  // namespace papr::workflows
