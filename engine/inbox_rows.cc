#include "engine/inbox_rows.h"

#include "common/byte_codec.h"

namespace papr::engine {
namespace {

constexpr char kPostedStartTag = 1;
constexpr char kPostedRequestTag = 2;

}  // namespace

std::string EncodePostedStart(const StartOptions& o, int64_t posted_ms) {
  std::string out(1, kPostedStartTag);
  PutSignedVarint64(&out, posted_ms);
  PutLengthPrefixed(&out, o.workflow_type);
  PutLengthPrefixed(&out, o.input);
  PutLengthPrefixed(&out, o.owner);
  PutVarint64(&out, o.blobs.size());
  for (const auto& [name, bytes] : o.blobs) {
    PutLengthPrefixed(&out, name);
    PutLengthPrefixed(&out, bytes);
  }
  return out;
}

Result<PostedStart> DecodePostedStart(std::string_view in) {
  auto corrupt = [] { return Status::Corruption("an inbox row does not decode as a posted start"); };
  if (in.empty() || in.front() != kPostedStartTag) return corrupt();
  in.remove_prefix(1);
  PostedStart p;
  StartOptions& o = p.options;
  uint64_t blobs = 0;
  if (!GetSignedVarint64(&in, &p.posted_ms) || !GetLengthPrefixed(&in, &o.workflow_type) ||
      !GetLengthPrefixed(&in, &o.input) || !GetLengthPrefixed(&in, &o.owner) ||
      !GetVarint64(&in, &blobs) || blobs > in.size()) {
    return corrupt();
  }
  o.blobs.resize(blobs);
  for (auto& [name, bytes] : o.blobs) {
    if (!GetLengthPrefixed(&in, &name) || !GetLengthPrefixed(&in, &bytes)) return corrupt();
  }
  if (!in.empty()) return corrupt();
  return p;
}

ExecutionRecord PostedRecord(const std::string& id, const PostedStart& p) {
  ExecutionRecord r;
  r.workflow_id = id;
  r.workflow_type = p.options.workflow_type;
  r.owner = p.options.owner;
  r.start_ms = r.updated_ms = p.posted_ms;
  r.next_event_id = 2;  // its started event
  return r;
}

std::string EncodePostedRequest(const PostedRequest& request) {
  std::string out(1, kPostedRequestTag);
  out.push_back(static_cast<char>(request.kind));
  PutSignedVarint64(&out, request.posted_ms);
  PutLengthPrefixed(&out, request.name);
  PutLengthPrefixed(&out, request.payload);
  return out;
}

Result<PostedRequest> DecodePostedRequest(std::string_view in) {
  PostedRequest r;
  const bool tagged = in.size() >= 2 && in[0] == kPostedRequestTag &&
                      in[1] >= static_cast<char>(PostedRequest::Kind::kCancel) &&
                      in[1] <= static_cast<char>(PostedRequest::Kind::kSignal);
  if (tagged) {
    r.kind = static_cast<PostedRequest::Kind>(in[1]);
    in.remove_prefix(2);
  }
  if (!tagged || !GetSignedVarint64(&in, &r.posted_ms) || !GetLengthPrefixed(&in, &r.name) ||
      !GetLengthPrefixed(&in, &r.payload) || !in.empty()) {
    return Status::Corruption("an inbox row does not decode as a posted request");
  }
  return r;
}

}  // namespace papr::engine
