// Routes of documents: upload (multipart/form-data, as Papr's clients send it), status and
// cancel. A document is extracted (text, Markdown, PDF) and split into chunks
// (workflows/document_chunker.h) at upload, then stored as one batch whose memories are its
// chunks: durable, retried, with progress and webhook like any batch. Its upload_id is that
// batch's id, so /v1/memory/batch/status/{upload_id} and its results show it too.

#include <simdjson.h>

#include "api/internal/router_rep.h"
#include "api/internal/route_helpers.h"
#include "api/multipart.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/log.h"
#include "config/plans.h"
#include "workflows/document_chunker.h"
#include "workflows/document_text.h"

namespace papr::api {
namespace {

constexpr size_t kMaxFormParts = 32;
constexpr size_t kMaxFieldBytes = 4096;  // a form field other than file and metadata
const workflows::ChunkOptions kChunks{};  // documented in the README: 2,000 / 200 bytes

struct DocumentForm {
  const FormPart* file = nullptr;
  std::string external_user_id, metadata = "{}", webhook_url, webhook_secret;
};

std::string FieldDetails(std::string_view field) {
  JsonWriter d;
  d.BeginObject().Field("field", field).EndObject();
  return d.Take();
}

// The fields this server uses; the others Papr's client may send are ignored.
std::optional<HttpResponse> ReadForm(const std::vector<FormPart>& parts, size_t max_metadata,
                                     DocumentForm* form) {
  const std::pair<const char*, std::string*> fields[] = {
      {"external_user_id", &form->external_user_id}, {"end_user_id", &form->external_user_id},
      {"metadata", &form->metadata},                 {"webhook_url", &form->webhook_url},
      {"webhook_secret", &form->webhook_secret}};
  for (const FormPart& part : parts) {
    if (part.name == "file") {
      if (form->file != nullptr) return SimpleError(400, "send one file per upload", FieldDetails("file"));
      form->file = &part;
      continue;
    }
    for (const auto& [name, into] : fields) {
      if (part.name != name) continue;
      const size_t max = into == &form->metadata ? max_metadata : kMaxFieldBytes;
      if (part.body.size() > max || !simdjson::validate_utf8(part.body.data(), part.body.size())) {
        return SimpleError(400, part.name + " must be UTF-8 of at most " + std::to_string(max) +
                                    " bytes", FieldDetails(part.name));
      }
      if (!part.body.empty()) *into = std::string(part.body);
    }
  }
  if (form->file == nullptr || form->file->body.empty()) {
    return SimpleError(400, "a non-empty form part named 'file' is required", FieldDetails("file"));
  }
  return std::nullopt;
}

// The batch request of a document's chunks, as JSON, so DecodeBatch checks it as it checks
// any batch (content, metadata and webhook limits, the batch size). The caller's metadata
// object goes into each chunk's with the chunk's place in the document.
std::optional<std::string> BatchBodyOf(const std::vector<workflows::DocumentChunk>& chunks,
                                       const DocumentForm& form, const std::string& id,
                                       const std::string& format) {
  simdjson::dom::parser parser;
  simdjson::dom::object user_meta;
  if (parser.parse(form.metadata).get(user_meta) != simdjson::SUCCESS) return std::nullopt;
  const std::string user_fields = simdjson::minify(user_meta);  // "{...}"
  const std::string_view inner(user_fields.data() + 1, user_fields.size() - 2);
  JsonWriter w;
  w.BeginObject().Key("memories").BeginArray();
  for (size_t i = 0; i < chunks.size(); ++i) {
    JsonWriter meta;
    meta.BeginObject().Field("document_id", id).Field("document_name", form.file->filename);
    meta.Field("document_format", format).Field("chunk_index", static_cast<int64_t>(i));
    meta.Field("chunk_count", static_cast<int64_t>(chunks.size()));
    meta.Field("page_start", chunks[i].first_page).Field("page_end", chunks[i].last_page);
    meta.Field("sourceType", "document").EndObject();
    std::string m = meta.Take();
    if (!inner.empty()) m.insert(m.size() - 1, "," + std::string(inner));
    w.BeginObject().Field("content", chunks[i].text).Field("type", "document");
    w.FieldRaw("metadata", m).EndObject();
  }
  w.EndArray();
  if (!form.external_user_id.empty()) w.Field("external_user_id", form.external_user_id);
  if (!form.webhook_url.empty()) w.Field("webhook_url", form.webhook_url);
  if (!form.webhook_secret.empty()) w.Field("webhook_secret", form.webhook_secret);
  w.EndObject();
  return w.Take();
}

// Papr's DocumentGetStatusResponse status names.
const char* DocumentStateName(workflows::BatchState s) {
  using S = workflows::BatchState;
  switch (s) {
    case S::kQueued:
      return "queued";
    case S::kCompleted:
    case S::kPartial:
      return "completed";
    case S::kFailed:
    case S::kTerminated:
      return "failed";
    case S::kCancelled:
      return "cancelled";
    case S::kProcessing:
    case S::kCancelling:
      break;
  }
  return "processing";
}

}  // namespace

HttpResponse Router::Rep::UploadDocument(const HttpRequest& req, const std::string& user) {
  auto parts = ParseMultipartForm(req.Header("content-type"), req.body, kMaxFormParts);
  if (!parts.ok()) return SimpleError(400, parts.status().message(), FieldDetails("file"));
  DocumentForm form;
  const DecodeLimits limits = Limits(user);
  if (auto bad = ReadForm(*parts, static_cast<size_t>(limits.fields.max_metadata_bytes), &form)) {
    return *bad;
  }
  if (auto too_large = DocumentTooLarge(user, form.file->body.size())) return *too_large;
  const size_t max_text = static_cast<size_t>(limits.max_batch_size) * kChunks.max_bytes;
  auto text = workflows::ExtractDocumentText(form.file->body, form.file->filename,
                                             form.file->content_type, max_text);
  if (!text.ok()) {
    const int code = text.status().code() == StatusCode::kResourceExhausted ? 413 : 422;
    return SimpleError(code, text.status().message(), FieldDetails("file"));
  }
  const auto chunks = workflows::ChunkDocument(*text, kChunks);
  const std::string key(req.Header("idempotency-key"));
  const std::string id = key.empty() ? RandomUuid() : DeterministicUuid("document:" + user + "\n" + key);
  const std::string format = workflows::DocumentFormatName(text->format);
  auto body = BatchBodyOf(chunks, form, id, format);
  if (!body) return SimpleError(400, "metadata must be a JSON object", FieldDetails("metadata"));
  workflows::BatchRequest batch;
  ApiError error;
  if (!DecodeBatch(*body, limits, &batch, &error)) {
    if (error.status == 413) {
      error.message = "The document makes " + std::to_string(chunks.size()) +
                      " chunks; the limit is " + std::to_string(limits.max_batch_size) +
                      " (features.max_batch_size)";
    }
    return ErrorResponse(error);
  }
  batch.user_id = user;
  batch.batch_id = id;
  batch.idempotency_key = key;
  if (!batch.webhook_url.empty()) {
    Status target_ok = deps.webhooks->CheckTarget(batch.webhook_url);
    if (!target_ok.ok()) return SimpleError(400, target_ok.message(), FieldDetails("webhook_url"));
  }
  auto outcome = deps.batches->Submit(std::move(batch));
  if (!outcome.ok()) return StatusError(outcome.status());
  log::Info("document accepted", {{"upload_id", id}, {"format", format},
                                  {"pages", std::to_string(text->pages.size())},
                                  {"chunks", std::to_string(chunks.size())}});
  JsonWriter w;
  w.BeginObject().Field("code", 202).Field("status", "processing");
  w.Field("message", "Document accepted: " + std::to_string(chunks.size()) + " chunks to store");
  w.Key("document_status").BeginObject().Field("progress", 0).Field("upload_id", id);
  w.Field("current_filename", form.file->filename);
  w.Field("total_pages", static_cast<int64_t>(text->pages.size()));
  w.Field("status_type", "processing").EndObject();
  w.Key("memory_items").BeginArray().EndArray();
  w.Key("details").BeginObject().Field("upload_id", id).Field("batch_id", outcome->batch_id);
  w.Field("status_url", "/v1/document/status/" + id).Field("format", format);
  w.Field("chunks", static_cast<int64_t>(chunks.size())).Field("durable", outcome->durable);
  w.Field("existing", outcome->existing).EndObject().EndObject();
  HttpResponse r = HttpResponse::Json(202, w.Take());
  r.headers.emplace_back("Location", "/v1/document/status/" + id);
  return r;
}

std::optional<HttpResponse> Router::Rep::DocumentTooLarge(const std::string& user,
                                                           size_t bytes) const {
  const auto& c = *deps.config;
  const config::Plan plan = config::PlanOf(c, user);
  if (static_cast<int64_t>(bytes) <= plan.max_document_bytes) return std::nullopt;
  const auto next = config::NextPlan(c, plan);
  JsonWriter d;
  d.BeginObject().Field("field", "file").Field("document_bytes", static_cast<int64_t>(bytes));
  d.Field("max_document_bytes", plan.max_document_bytes).Field("plan", plan.name);
  d.FieldOrNull("next_plan", next ? next->name : "");
  d.Field("upgrade_info", Limits(user).upgrade_info);
  d.Field("upgrade_url", c.messaging.upgrade_url).EndObject();
  const std::string key = c.plans.empty() ? "features.max_document_bytes" : "plan " + plan.name;
  return SimpleError(413,
                     "Document size (" + std::to_string(bytes) + " bytes) exceeds limit (" +
                         std::to_string(plan.max_document_bytes) + " bytes, " + key + ")",
                     d.Take());
}

HttpResponse Router::Rep::DocumentStatus(const std::string& user, const std::string& id) {
  auto st = deps.batches->GetStatus(user, id);
  if (!st.ok()) return StatusError(st.status());
  const int64_t settled = st->succeeded + st->failed + st->canceled;
  JsonWriter w;
  w.BeginObject().Field("upload_id", id).Field("status", DocumentStateName(st->state));
  w.Key("progress").Double(st->total > 0 ? static_cast<double>(settled) / st->total : 1.0);
  w.Field("message", std::to_string(st->succeeded) + " of " + std::to_string(st->total) +
                         " chunks stored, " + std::to_string(st->failed) + " failed");
  w.FieldOrNull("error", st->reason);
  w.Field("timestamp", FormatRfc3339(st->updated_at_ms));
  w.Field("workflow_type", st->durable ? "durable_batch" : "executor");
  w.Key("request_counts").BeginObject().Field("total", st->total);
  w.Field("succeeded", st->succeeded).Field("failed", st->failed);
  w.Field("canceled", st->canceled).EndObject();
  w.Field("batch_status", workflows::BatchStateName(st->state)).EndObject();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse Router::Rep::CancelDocument(const std::string& user, const std::string& id) {
  Status s = deps.batches->Cancel(user, id);
  if (!s.ok()) return StatusError(s);
  return DocumentStatus(user, id);
}

}  // namespace papr::api
