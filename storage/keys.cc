#include "storage/keys.h"

#include "common/byte_codec.h"

namespace papr::storage {
namespace {

constexpr char kSep = '\0';
constexpr char kMetaScalarTag = '\x01';
constexpr char kMetaCounterTag = '\x02';
constexpr char kMetaMaxTag = '\x03';

std::string Join2(std::string_view a, std::string_view b) {
  std::string key;
  key.reserve(a.size() + 1 + b.size());
  key.append(a);
  key.push_back(kSep);
  key.append(b);
  return key;
}

// Splits `key` at its first separator into head and tail.
bool SplitFirst(std::string_view key, std::string_view* head, std::string_view* tail) {
  size_t pos = key.find(kSep);
  if (pos == std::string_view::npos) return false;
  *head = key.substr(0, pos);
  *tail = key.substr(pos + 1);
  return true;
}

}  // namespace

std::string MetaSchemaVersionKey() {
  std::string key(1, kMetaScalarTag);
  key.append("schema_version");
  return key;
}

std::string MetaClusterShardsKey() {
  std::string key(1, kMetaScalarTag);
  key.append("cluster_shards");
  return key;
}

std::string MetaCounterKey(std::string_view counter_name, std::string_view user_id) {
  std::string key(1, kMetaCounterTag);
  key.append(Join2(counter_name, user_id));
  return key;
}

std::string MetaMaxPrefix(std::string_view max_name, std::string_view user_id) {
  std::string key(1, kMetaMaxTag);
  key.append(Join2(max_name, user_id));
  key.push_back(kSep);
  return key;
}

std::string MetaMaxKey(std::string_view max_name, std::string_view user_id, uint64_t value) {
  std::string key = MetaMaxPrefix(max_name, user_id);
  PutFixed64BE(&key, ~value);  // largest first
  return key;
}

bool DecodeMetaMaxKey(std::string_view key, std::string_view prefix, uint64_t* value) {
  if (key.size() != prefix.size() + 8 || key.substr(0, prefix.size()) != prefix) return false;
  key.remove_prefix(prefix.size());
  uint64_t inverted = 0;
  if (!GetFixed64BE(&key, &inverted)) return false;
  *value = ~inverted;
  return true;
}

std::string MemoryKey(std::string_view user_id, std::string_view memory_id) {
  return Join2(user_id, memory_id);
}

std::string MemoryUserPrefix(std::string_view user_id) { return Join2(user_id, ""); }

bool DecodeMemoryKey(std::string_view key, std::string_view* user_id, std::string_view* memory_id) {
  return SplitFirst(key, user_id, memory_id);
}

std::string IndexQueueKey(uint64_t sequence) {
  std::string key;
  PutFixed64BE(&key, sequence);
  return key;
}

bool DecodeIndexQueueKey(std::string_view key, uint64_t* sequence) {
  return key.size() == 8 && GetFixed64BE(&key, sequence);
}

constexpr char kQueuedDeletionTag = 'D';
constexpr char kContentHashTag = 'H';

std::string EncodeIndexQueueValue(std::string_view user_id, std::string_view memory_id,
                                  std::string_view content_hash) {
  std::string value;
  PutLengthPrefixed(&value, user_id);
  PutLengthPrefixed(&value, memory_id);
  if (!content_hash.empty()) {
    value.push_back(kContentHashTag);
    value.append(content_hash);
  }
  return value;
}

std::string EncodeIndexQueueDeletion(std::string_view user_id, std::string_view memory_id,
                                     std::string_view tombstone) {
  std::string value = EncodeIndexQueueValue(user_id, memory_id);
  value.push_back(kQueuedDeletionTag);
  value.append(tombstone);
  return value;
}

bool DecodeIndexQueueValue(std::string_view value, std::string* user_id, std::string* memory_id,
                           std::optional<std::string>* tombstone, std::string* content_hash) {
  if (!GetLengthPrefixed(&value, user_id) || !GetLengthPrefixed(&value, memory_id)) return false;
  if (tombstone != nullptr) tombstone->reset();
  if (content_hash != nullptr) content_hash->clear();
  if (value.empty()) return true;
  if (value.front() == kContentHashTag) {
    if (content_hash != nullptr) *content_hash = std::string(value.substr(1));
    return value.size() > 1;
  }
  if (value.front() != kQueuedDeletionTag || tombstone == nullptr) return false;
  *tombstone = std::string(value.substr(1));
  return true;
}

namespace {

constexpr char kSegmentTag = 'S';
constexpr char kTombstoneTag = 'T';

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

bool HexDecode(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]);
    int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

std::string SegmentScopePrefix(std::string_view user_id, std::string_view scope) {
  std::string key = Join2(user_id, HexEncode(scope));
  key.push_back(kSep);
  return key;
}

}  // namespace

std::string SegmentKey(std::string_view user_id, std::string_view scope, uint64_t segment_id) {
  std::string key = SegmentScopePrefix(user_id, scope);
  key.push_back(kSegmentTag);
  PutFixed64BE(&key, segment_id);
  return key;
}

std::string SegmentTombstoneKey(std::string_view user_id, std::string_view scope,
                                uint64_t segment_id, uint32_t doc) {
  std::string key = SegmentScopePrefix(user_id, scope);
  key.push_back(kTombstoneTag);
  PutFixed64BE(&key, segment_id);
  for (int i = 3; i >= 0; --i) key.push_back(static_cast<char>((doc >> (i * 8)) & 0xff));
  return key;
}

std::string SegmentUserPrefix(std::string_view user_id) { return Join2(user_id, ""); }

bool DecodeSegmentKey(std::string_view key, SegmentKeyParts* parts) {
  std::string_view user;
  std::string_view rest;
  std::string_view hex;
  std::string_view tail;
  if (!SplitFirst(key, &user, &rest) || !SplitFirst(rest, &hex, &tail)) return false;
  if (tail.empty() || !HexDecode(hex, &parts->scope)) return false;
  parts->user_id.assign(user);
  char tag = tail.front();
  tail.remove_prefix(1);
  if (!GetFixed64BE(&tail, &parts->segment_id)) return false;
  parts->tombstone = tag == kTombstoneTag;
  if (tag == kSegmentTag) return tail.empty();
  if (tag != kTombstoneTag || tail.size() != 4) return false;
  parts->doc = 0;
  for (char c : tail) parts->doc = (parts->doc << 8) | static_cast<uint8_t>(c);
  return true;
}

std::string MetaSearchLogKey(uint64_t version) {
  std::string key(1, kMetaScalarTag);
  key.append("search_log/");
  PutFixed64BE(&key, version);
  return key;
}

std::string MetaSearchLogHeadKey() {
  std::string key(1, kMetaScalarTag);
  key.append("search_log_head");
  return key;
}

std::string MetaSearchSequencePrefixKey(uint32_t prefix) {
  std::string key(1, kMetaScalarTag);
  key.append("search_sequence_prefix/" + std::to_string(prefix));
  return key;
}

std::string MetaSearchIndexVersionKey() {
  std::string key(1, kMetaScalarTag);
  key.append("search_index_version");
  return key;
}

std::string UserStatsKey(std::string_view user_id) { return std::string(user_id); }

std::string UsageKey(std::string_view user_id) { return std::string(user_id); }

std::string HistoryKey(std::string_view workflow_id, uint64_t event_id) {
  std::string key = HistoryPrefix(workflow_id);
  PutFixed64BE(&key, event_id);
  return key;
}

std::string HistoryPrefix(std::string_view workflow_id) { return Join2(workflow_id, ""); }

bool DecodeHistoryKey(std::string_view key, std::string_view* workflow_id, uint64_t* event_id) {
  std::string_view rest;
  if (!SplitFirst(key, workflow_id, &rest)) return false;
  return GetFixed64BE(&rest, event_id) && rest.empty();
}

std::string ExecutionKey(std::string_view workflow_id) { return std::string(workflow_id); }

std::string OwnerIndexPrefix(std::string_view owner) {
  std::string key(1, static_cast<char>(0xF0));
  key.append(owner);
  key.push_back('\0');
  return key;
}

std::string OwnerIndexKey(std::string_view owner, uint64_t start_ms, std::string_view workflow_id) {
  std::string key = OwnerIndexPrefix(owner);
  PutFixed64BE(&key, ~start_ms);
  key.append(workflow_id);
  return key;
}

bool DecodeOwnerIndexKey(std::string_view key, std::string_view* owner, uint64_t* start_ms,
                         std::string_view* workflow_id) {
  if (key.empty() || static_cast<uint8_t>(key[0]) != 0xF0) return false;
  key.remove_prefix(1);
  size_t nul = key.find('\0');
  if (nul == std::string_view::npos) return false;
  *owner = key.substr(0, nul);
  std::string_view rest = key.substr(nul + 1);
  uint64_t inverted;
  if (!GetFixed64BE(&rest, &inverted)) return false;
  *start_ms = ~inverted;
  *workflow_id = rest;
  return true;
}

std::string ActivityKey(std::string_view workflow_id, uint64_t activity_id) {
  return HistoryKey(workflow_id, activity_id);  // same layout, other table
}

std::string ActivityPrefix(std::string_view workflow_id) { return HistoryPrefix(workflow_id); }

bool DecodeActivityKey(std::string_view key, std::string_view* workflow_id, uint64_t* activity_id) {
  return DecodeHistoryKey(key, workflow_id, activity_id);
}

std::string TimerKey(uint64_t fire_ms, std::string_view workflow_id, std::string_view timer_id) {
  std::string key = TimerFireTimePrefix(fire_ms);
  key.append(Join2(workflow_id, timer_id));
  return key;
}

std::string TimerFireTimePrefix(uint64_t fire_ms) {
  std::string key;
  PutFixed64BE(&key, fire_ms);
  return key;
}

bool DecodeTimerKey(std::string_view key, uint64_t* fire_ms, std::string_view* workflow_id,
                    std::string_view* timer_id) {
  return GetFixed64BE(&key, fire_ms) && SplitFirst(key, workflow_id, timer_id);
}

std::string VisibilityKey(uint8_t status, uint64_t start_ms, std::string_view workflow_id) {
  std::string key = VisibilityStatusPrefix(status);
  PutFixed64BE(&key, start_ms);
  key.append(workflow_id);
  return key;
}

std::string VisibilityStatusPrefix(uint8_t status) {
  return std::string(1, static_cast<char>(status));
}

bool DecodeVisibilityKey(std::string_view key, uint8_t* status, uint64_t* start_ms,
                         std::string_view* workflow_id) {
  if (key.empty()) return false;
  *status = static_cast<uint8_t>(key[0]);
  key.remove_prefix(1);
  if (!GetFixed64BE(&key, start_ms)) return false;
  *workflow_id = key;
  return true;
}

namespace {

std::string InboxPrefix(uint32_t shard, char kind) {
  std::string out;
  out.push_back(static_cast<char>((shard >> 8) & 0xFF));
  out.push_back(static_cast<char>(shard & 0xFF));
  out.push_back(kind);
  return out;
}

}  // namespace

std::string InboxStartPrefix(uint32_t shard) { return InboxPrefix(shard, 'S'); }

std::string InboxRequestPrefix(uint32_t shard) { return InboxPrefix(shard, 'R'); }

std::string InboxRequestKey(uint32_t shard, std::string_view workflow_id,
                            std::string_view request_id) {
  return InboxRequestPrefix(shard) + Join2(workflow_id, request_id);
}

bool DecodeInboxRequestKey(std::string_view key, std::string_view* workflow_id) {
  if (key.size() < 3 || key[2] != 'R') return false;
  key.remove_prefix(3);
  size_t nul = key.find('\0');
  if (nul == std::string_view::npos) return false;
  *workflow_id = key.substr(0, nul);
  return true;
}

std::string InboxStartKey(uint32_t shard, std::string_view workflow_id) {
  std::string out = InboxStartPrefix(shard);
  out.append(workflow_id);
  return out;
}

std::string BlobKey(std::string_view workflow_id, std::string_view blob_name) {
  return Join2(workflow_id, blob_name);
}

std::string BlobPrefix(std::string_view workflow_id) { return Join2(workflow_id, ""); }

bool DecodeBlobKey(std::string_view key, std::string_view* workflow_id,
                   std::string_view* blob_name) {
  return SplitFirst(key, workflow_id, blob_name);
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    auto last = static_cast<uint8_t>(s.back());
    if (last != 0xff) {
      s.back() = static_cast<char>(last + 1);
      return s;
    }
    s.pop_back();
  }
  return s;
}

}  // namespace papr::storage
