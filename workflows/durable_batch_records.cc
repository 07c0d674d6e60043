#include "common/byte_codec.h"
#include "workflows/internal/durable_batch_rep.h"

namespace papr::workflows::internal {

std::string EncodeInt(int64_t v) {
  std::string out;
  PutSignedVarint64(&out, v);
  return out;
}

int64_t DecodeInt(std::string_view in) {
  int64_t v = -1;
  return GetSignedVarint64(&in, &v) ? v : -1;
}

std::string EncodeSummary(const RangeCounts& c) {
  std::string out(1, static_cast<char>(c.state));
  PutSignedVarint64(&out, c.ok);
  PutSignedVarint64(&out, c.failed);
  PutSignedVarint64(&out, c.canceled);
  PutVarint64(&out, c.errors.size());
  for (const auto& e : c.errors) {
    PutSignedVarint64(&out, e.index);
    PutLengthPrefixed(&out, e.error);
  }
  return out;
}

RangeCounts DecodeSummary(std::string_view in) {
  RangeCounts c;
  if (in.empty()) return c;
  c.state = static_cast<BatchState>(in[0]);
  in.remove_prefix(1);
  if (!GetSignedVarint64(&in, &c.ok) || !GetSignedVarint64(&in, &c.failed) ||
      !GetSignedVarint64(&in, &c.canceled)) {
    c.state = BatchState::kFailed;
    return c;
  }
  uint64_t n = 0;
  if (!GetVarint64(&in, &n)) return c;
  for (uint64_t i = 0; i < n && i < 100; ++i) {
    ItemError e;
    if (!GetSignedVarint64(&in, &e.index) || !GetLengthPrefixed(&in, &e.error)) break;
    c.errors.push_back(std::move(e));
  }
  return c;
}


BatchState FinalState(bool cancelled, bool stopped_early, int64_t ok, int64_t failed,
                      int64_t canceled) {
  if (cancelled) return BatchState::kCancelled;
  if (stopped_early || (ok == 0 && failed + canceled > 0)) return BatchState::kFailed;
  return failed + canceled == 0 ? BatchState::kCompleted : BatchState::kPartial;
}

std::string EncodeWebhookRequest(const WebhookRequest& r) {
  std::string out;
  for (const auto* s : {&r.url, &r.batch_id, &r.webhook_id, &r.body}) PutLengthPrefixed(&out, *s);
  return out;
}

bool DecodeWebhookRequest(std::string_view in, WebhookRequest* r) {
  return GetLengthPrefixed(&in, &r->url) && GetLengthPrefixed(&in, &r->batch_id) &&
         GetLengthPrefixed(&in, &r->webhook_id) && GetLengthPrefixed(&in, &r->body);
}

std::string EncodeAttempt(const WebhookAttempt& a) {
  std::string out;
  PutSignedVarint64(&out, a.delivered);
  PutSignedVarint64(&out, a.status_code);
  PutSignedVarint64(&out, a.stop_retrying);
  PutSignedVarint64(&out, a.retry_after_seconds);
  PutLengthPrefixed(&out, a.error);
  return out;
}

WebhookAttempt DecodeAttempt(std::string_view in) {
  WebhookAttempt a;
  int64_t delivered = 0, stop = 0;
  if (GetSignedVarint64(&in, &delivered) && GetSignedVarint64(&in, &a.status_code) &&
      GetSignedVarint64(&in, &stop) && GetSignedVarint64(&in, &a.retry_after_seconds)) {
    GetLengthPrefixed(&in, &a.error);
  }
  a.delivered = delivered != 0;
  a.stop_retrying = stop != 0;
  return a;
}


Result<std::vector<std::string>> ChildIds(const engine::Engine& engine, const std::string& id) {
  ASSIGN_OR_RETURN(auto events, engine.ReadHistory(id));
  std::vector<std::string> ids;
  for (const auto& e : events) {
    if (e.type == engine::EventType::kStartChildWorkflowExecutionInitiated) {
      ids.push_back(e.child_workflow_id);
    }
  }
  return ids;
}

}  // namespace papr::workflows::internal
