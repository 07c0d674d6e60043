#include "api/response_json.h"

#include <algorithm>

#include <simdjson.h>

#include "common/clock.h"

namespace papr::api {
namespace {

// Papr lifts metadata's well-known keys (topics, customMetadata, ...) to the memory's top
// level; we lift every metadata key that does not collide with a field of M, once (a key
// stored twice by an older version is lifted the first time only).
void LiftMetadata(JsonWriter& w, const std::string& metadata_json) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(metadata_json).get(obj) != simdjson::SUCCESS) return;
  const auto& reserved = MemoryServerFields();
  std::vector<std::string_view> lifted;
  for (auto field : obj) {
    auto is = [&](std::string_view k) { return k == field.key; };
    if (std::any_of(reserved.begin(), reserved.end(), is) ||
        std::any_of(lifted.begin(), lifted.end(), is)) {
      continue;
    }
    lifted.push_back(field.key);
    w.Key(field.key).Raw(simdjson::minify(field.value));
  }
}

}  // namespace

const std::vector<std::string_view>& MemoryServerFields() {
  static const std::vector<std::string_view> kFields = {
      "id",       "memoryId",  "content",          "type",         "user_id",
      "acl",      "createdAt", "metadata",         "context",      "external_user_id",
      "content_hash", "word_count", "keywords",    "batch_id",     "batch_index",
      "enrichment", "score",   "updatedAt",        "objectId"};
  return kFields;
}

void WriteMemory(JsonWriter& w, const storage::MemoryRecord& m, double score) {
  w.BeginObject();
  w.Field("id", m.id).Field("memoryId", m.id).Field("content", m.content).Field("type", m.type);
  w.Field("user_id", m.user_id).FieldRaw("acl", m.acl_json.empty() ? "{}" : m.acl_json);
  w.Field("createdAt", FormatRfc3339(m.created_at_ms));
  w.FieldRaw("metadata", m.metadata_json.empty() ? "{}" : m.metadata_json);
  w.FieldRaw("context", m.context_json.empty() ? "[]" : m.context_json);
  w.FieldOrNull("external_user_id", m.external_user_id);
  w.Field("content_hash", m.content_hash).Field("word_count", m.word_count);
  w.Key("keywords").BeginArray();
  for (const auto& k : m.keywords) w.String(k);
  w.EndArray();
  if (!m.batch_id.empty()) {
    w.Field("batch_id", m.batch_id).Field("batch_index", m.batch_index);
  }
  if (!m.enrichment_json.empty()) w.FieldRaw("enrichment", m.enrichment_json);
  if (score >= 0) w.Key("score").Double(score);
  LiftMetadata(w, m.metadata_json);
  w.EndObject();
}

void WriteAddMemoryItem(JsonWriter& w, const std::string& memory_id, int64_t created_at_ms) {
  w.BeginObject()
      .Field("memoryId", memory_id)
      .Field("createdAt", FormatRfc3339(created_at_ms))
      .Field("objectId", memory_id)
      .Key("memoryChunkIds")
      .BeginArray()
      .EndArray()
      .EndObject();
}

void WriteBatchStatus(JsonWriter& w, const workflows::BatchStatus& st) {
  auto time_or_null = [&](const char* key, int64_t ms) {
    w.Key(key);
    if (ms > 0) {
      w.String(FormatRfc3339(ms));
    } else {
      w.Null();
    }
  };
  w.BeginObject();
  w.Field("batch_id", st.batch_id).Field("workflow_id", st.workflow_id);
  w.Field("status", workflows::BatchStateName(st.state)).Field("durable", st.durable);
  w.FieldOrNull("reason", st.reason);
  w.Key("request_counts").BeginObject();
  w.Field("total", st.total).Field("processing", st.processing).Field("succeeded", st.succeeded);
  w.Field("failed", st.failed).Field("canceled", st.canceled).EndObject();
  w.Field("total_processed", st.succeeded + st.failed).Field("total_successful", st.succeeded);
  w.Field("total_failed", st.failed).Field("retries", st.retries);
  w.Field("total_content_size", st.total_content_size);
  w.Key("errors").BeginArray();
  for (const auto& e : st.errors) {
    w.BeginObject().Field("index", e.index).Field("error", e.error).Field("code", e.code).EndObject();
  }
  w.EndArray();
  time_or_null("created_at", st.created_at_ms);
  time_or_null("started_at", st.started_at_ms);
  time_or_null("updated_at", st.updated_at_ms);
  time_or_null("completed_at", st.completed_at_ms);
  w.FieldOrNull("resume_error", st.resume_error);
  w.Key("webhook").BeginObject();
  w.FieldOrNull("url", st.webhook.url);
  w.Field("status", workflows::WebhookStateName(st.webhook.state));
  w.Field("attempts", st.webhook.attempts).Field("last_status_code", st.webhook.last_status_code);
  w.FieldOrNull("last_error", st.webhook.last_error);
  w.Key("deliveries").BeginArray();
  for (const auto& d : st.webhook.deliveries) {
    w.BeginObject().Field("at", FormatRfc3339(d.at_ms)).Field("status_code", d.status_code);
    w.FieldOrNull("error", d.error).EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.EndObject();
}

std::string BatchMemoryResponseBody(const workflows::BatchStatus& st,
                                    const std::vector<workflows::ItemResult>& items,
                                    int* http_status) {
  using workflows::ItemState;
  const char* status = "success";
  *http_status = 200;
  if (st.succeeded == 0 && st.total > 0) {
    status = "error";
    *http_status = 400;
  } else if (st.succeeded < st.total) {
    status = "partial";
    *http_status = 207;
  }
  JsonWriter w;
  w.BeginObject().Field("code", *http_status).Field("status", status);
  w.Field("batch_id", st.batch_id);
  w.Key("successful").BeginArray();
  for (const auto& item : items) {
    if (item.state != ItemState::kSucceeded) continue;
    w.BeginObject().Field("index", item.index).Field("code", 200).Field("status", "success");
    w.Key("data").BeginArray();
    WriteAddMemoryItem(w, item.memory_id, item.created_at_ms);
    w.EndArray().EndObject();
  }
  w.EndArray();
  w.Key("errors").BeginArray();
  for (const auto& item : items) {
    if (item.state == ItemState::kSucceeded) continue;
    std::string error = item.state == ItemState::kCanceled ? "canceled" : item.error;
    int64_t code = item.state == ItemState::kCanceled ? 499 : item.code;
    w.BeginObject().Field("index", item.index).Field("error", error).Field("code", code).EndObject();
  }
  w.EndArray();
  w.Field("total_processed", st.succeeded + st.failed).Field("total_successful", st.succeeded);
  w.Field("total_failed", st.failed).Field("total_content_size", st.total_content_size);
  w.EndObject();
  return w.Take();
}

}  // namespace papr::api
