// How the batch workflow's history payloads read, for the API, console and engine-admin. Each
// reader is strict (all bytes consumed, known state): anything else is left to the registry's
// escaped-bytes fallback rather than shown wrong.
#include "workflows/durable_batch_payloads.h"

#include <simdjson.h>

#include "common/byte_codec.h"
#include "common/clock.h"
#include "common/json_writer.h"
#include "workflows/batch_codec.h"
#include "workflows/internal/durable_batch_rep.h"

namespace papr::workflows {
namespace {

using engine::EventType;
using engine::PayloadField;
using Json = std::optional<std::string>;
using namespace internal;  // NOLINT: the encodings are defined in the internal header

void IntOrNull(JsonWriter& w, const char* key, int64_t v, int64_t none) {
  if (v == none) {
    w.Key(key).Null();
  } else {
    w.Field(key, v);
  }
}

void StringOrNull(JsonWriter& w, const char* key, const std::string& v) {
  w.FieldOrNull(key, v);
}

// Minified JSON if `text` is a JSON document, else nullopt.
Json MinifiedJson(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::padded_string padded(text);
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS) return std::nullopt;
  return simdjson::minify(doc);
}

Json HeaderJson(std::string_view bytes) {
  auto decoded = DecodeBatchHeader(bytes);
  if (!decoded.ok()) return std::nullopt;
  const BatchHeader& h = *decoded;
  JsonWriter w;
  w.BeginObject().Field("user_id", h.user_id).Field("total", h.total);
  w.Field("max_concurrency", h.max_concurrency);
  IntOrNull(w, "tolerated_failure_count", h.tolerated_failure_count, -1);
  w.Key("tolerated_failure_percentage");
  if (h.tolerated_failure_percentage < 0) {
    w.Null();
  } else {
    w.Double(h.tolerated_failure_percentage);
  }
  StringOrNull(w, "webhook_url", h.webhook_url);  // the secret is in a blob, never here
  w.Key("webhook_schedule_seconds").BeginArray();
  for (int64_t s : h.webhook_schedule_seconds) w.Int(s);
  w.EndArray();
  w.Field("total_content_size", h.total_content_size);
  StringOrNull(w, "idempotency_key", h.idempotency_key);
  w.Field("body_hash", h.body_hash);
  if (!h.root_batch_id.empty()) {
    w.Field("root_batch_id", h.root_batch_id).Field("lo", h.lo).Field("hi", h.hi);
  }
  w.EndObject();
  return w.Take();
}

bool ReadWholeInt(std::string_view in, int64_t* v) {
  return GetSignedVarint64(&in, v) && in.empty();
}

Json MemoryIndexJson(std::string_view bytes) {
  int64_t index = 0;
  if (!ReadWholeInt(bytes, &index)) return std::nullopt;
  JsonWriter w;
  w.BeginObject().Field("memory_index", index).EndObject();
  return w.Take();
}

Json MemoryResultJson(std::string_view bytes) {
  int64_t created = 0;
  if (!ReadWholeInt(bytes, &created)) return std::nullopt;
  JsonWriter w;
  w.BeginObject().Field("created_at_ms", created).Field("created_at", FormatRfc3339(created));
  w.EndObject();
  return w.Take();
}

Json WebhookRequestJson(std::string_view bytes) {
  WebhookRequest r;
  if (!DecodeWebhookRequest(bytes, &r)) return std::nullopt;
  JsonWriter w;
  w.BeginObject().Field("url", r.url).Field("webhook_id", r.webhook_id);
  w.Field("batch_id", r.batch_id);
  if (Json body = MinifiedJson(r.body)) {
    w.FieldRaw("body", *body);
  } else {
    w.Field("body", r.body);
  }
  w.EndObject();
  return w.Take();
}

// EncodeAttempt's layout: delivered, status code, stop, retry-after, error.
Json WebhookAttemptJson(std::string_view in) {
  int64_t delivered = 0, status = 0, stop = 0, retry_after = 0;
  std::string error;
  if (!GetSignedVarint64(&in, &delivered) || !GetSignedVarint64(&in, &status) ||
      !GetSignedVarint64(&in, &stop) || !GetSignedVarint64(&in, &retry_after) ||
      !GetLengthPrefixed(&in, &error) || !in.empty()) {
    return std::nullopt;
  }
  JsonWriter w;
  w.BeginObject().Field("delivered", delivered != 0);
  IntOrNull(w, "status_code", status, 0);
  StringOrNull(w, "error", error);
  w.Field("stop_retrying", stop != 0);
  IntOrNull(w, "retry_after_seconds", retry_after, -1);
  w.EndObject();
  return w.Take();
}

// EncodeSummary's layout: state byte, ok, failed, canceled, then the first errors.
Json SummaryJson(std::string_view in) {
  if (in.empty()) return std::nullopt;
  auto state = static_cast<BatchState>(static_cast<uint8_t>(in[0]));
  in.remove_prefix(1);
  std::string_view state_name = BatchStateName(state);
  int64_t ok = 0, failed = 0, canceled = 0;
  uint64_t n = 0;
  if (state_name == "unknown" || !GetSignedVarint64(&in, &ok) || !GetSignedVarint64(&in, &failed) ||
      !GetSignedVarint64(&in, &canceled) || !GetVarint64(&in, &n) || n > in.size()) {
    return std::nullopt;
  }
  JsonWriter w;
  w.BeginObject().Field("state", state_name).Field("succeeded", ok).Field("failed", failed);
  w.Field("canceled", canceled).Key("errors").BeginArray();
  for (uint64_t i = 0; i < n; ++i) {
    int64_t index = 0;
    std::string error;
    if (!GetSignedVarint64(&in, &index) || !GetLengthPrefixed(&in, &error)) return std::nullopt;
    w.BeginObject().Field("index", index).Field("error", error).EndObject();
  }
  if (!in.empty()) return std::nullopt;
  w.EndArray().EndObject();
  return w.Take();
}

//! Which reader reads the `payload` of an event: by event type and, for activity events, by
//! activity type (nullptr: any).
struct PayloadReader {
  EventType event;
  const char* activity_type;
  Json (*read)(std::string_view bytes);
};

constexpr PayloadReader kReaders[] = {
    {EventType::kWorkflowExecutionStarted, nullptr, HeaderJson},
    {EventType::kStartChildWorkflowExecutionInitiated, nullptr, HeaderJson},
    {EventType::kActivityTaskScheduled, kProcessMemory, MemoryIndexJson},
    {EventType::kActivityTaskCompleted, kProcessMemory, MemoryResultJson},
    {EventType::kActivityTaskScheduled, kDeliverWebhook, WebhookRequestJson},
    {EventType::kActivityTaskCompleted, kDeliverWebhook, WebhookAttemptJson},
    {EventType::kWorkflowExecutionCompleted, nullptr, SummaryJson},
    {EventType::kWorkflowExecutionCanceled, nullptr, SummaryJson},
    {EventType::kChildWorkflowExecutionCompleted, nullptr, SummaryJson},
    {EventType::kWorkflowExecutionSignaled, nullptr, MinifiedJson},
};

//! The batch workflow types' formatter (root batches and their chunks share one encoding).
class BatchPayloadFormatter final : public engine::PayloadFormatter {
 public:
  Json Format(const PayloadField& field) const override {
    if (field.name != "payload") return std::nullopt;  // options: the engine's own format
    std::string_view activity = field.activity_type;
    if (activity.empty() && engine::IsActivityEvent(field.event.type)) {
      // Type not found (history page without its scheduling event): the id ranges decide.
      activity = field.event.activity_id >= kWebhookActivityBase ? kDeliverWebhook : kProcessMemory;
    }
    for (const auto& r : kReaders) {
      if (r.event != field.event.type) continue;
      if (r.activity_type != nullptr && activity != r.activity_type) continue;
      return r.read(field.bytes);
    }
    return std::nullopt;
  }
};

}  // namespace

void RegisterBatchPayloadFormats(engine::PayloadFormatRegistry* registry) {
  auto formatter = std::make_shared<const BatchPayloadFormatter>();
  registry->Register(DurableBatchService::kWorkflowType, formatter);
  registry->Register(kChunkWorkflowType, formatter);
}

}  // namespace papr::workflows
