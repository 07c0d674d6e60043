#include "storage/memory_record.h"

#include "common/byte_codec.h"

namespace papr::storage {
namespace {

// Format version 1, fields in this order (lp = varint length + bytes, sv = zig-zag varint):
//   u8 version=1
//   lp id, lp user_id, lp content, lp type, lp metadata_json, lp context_json, lp acl_json,
//   lp external_user_id, sv created_at_ms, lp content_hash, sv word_count,
//   varint keyword_count, keyword_count * lp keyword,
//   lp batch_id, sv batch_index, lp enrichment_json
// Nothing may follow. A new field means a new version; version 1 stays decodable.
constexpr uint8_t kVersion1 = 1;

//! Reads version-1 fields from a byte range, remembering the first failure.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  void String(std::string* out) { ok_ = ok_ && GetLengthPrefixed(&in_, out); }
  void Signed(int64_t* out) { ok_ = ok_ && GetSignedVarint64(&in_, out); }
  void Strings(std::vector<std::string>* out) {
    uint64_t n = 0;
    // Every element takes at least one byte, which bounds a garbage count.
    ok_ = ok_ && GetVarint64(&in_, &n) && n <= in_.size();
    if (!ok_) return;
    out->resize(n);
    for (auto& s : *out) String(&s);
  }
  bool Done() const { return ok_ && in_.empty(); }

 private:
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace

std::string EncodeMemoryRecord(const MemoryRecord& r) {
  std::string out;
  out.reserve(64 + r.id.size() + r.user_id.size() + r.content.size() + r.metadata_json.size() +
              r.context_json.size() + r.acl_json.size() + r.enrichment_json.size());
  out.push_back(static_cast<char>(kVersion1));
  for (const std::string* s : {&r.id, &r.user_id, &r.content, &r.type, &r.metadata_json,
                               &r.context_json, &r.acl_json, &r.external_user_id}) {
    PutLengthPrefixed(&out, *s);
  }
  PutSignedVarint64(&out, r.created_at_ms);
  PutLengthPrefixed(&out, r.content_hash);
  PutSignedVarint64(&out, r.word_count);
  PutVarint64(&out, r.keywords.size());
  for (const auto& k : r.keywords) PutLengthPrefixed(&out, k);
  PutLengthPrefixed(&out, r.batch_id);
  PutSignedVarint64(&out, r.batch_index);
  PutLengthPrefixed(&out, r.enrichment_json);
  return out;
}

Result<MemoryRecord> DecodeMemoryRecord(std::string_view bytes) {
  if (bytes.empty()) return Status::Corruption("memory record: empty");
  auto version = static_cast<uint8_t>(bytes[0]);
  if (version != kVersion1) {
    return Status::Corruption("memory record: unknown format version " + std::to_string(version));
  }
  MemoryRecord r;
  Reader in(bytes.substr(1));
  for (std::string* s : {&r.id, &r.user_id, &r.content, &r.type, &r.metadata_json, &r.context_json,
                         &r.acl_json, &r.external_user_id}) {
    in.String(s);
  }
  in.Signed(&r.created_at_ms);
  in.String(&r.content_hash);
  in.Signed(&r.word_count);
  in.Strings(&r.keywords);
  in.String(&r.batch_id);
  in.Signed(&r.batch_index);
  in.String(&r.enrichment_json);
  if (!in.Done()) return Status::Corruption("memory record: truncated or malformed");
  return r;
}

}  // namespace papr::storage
