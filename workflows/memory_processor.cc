#include "workflows/memory_processor.h"

#include <simdjson.h>

#include "common/crypto.h"
#include "common/json_writer.h"
#include "net/http_client.h"
#include "storage/text_analysis.h"

namespace papr::workflows {

MemoryProcessor::MemoryProcessor(storage::MemoryStore* store, config::Processing processing,
                                 int64_t max_content_bytes, const Clock* clock)
    : store_(store),
      processing_(std::move(processing)),
      max_content_bytes_(max_content_bytes),
      clock_(clock) {}

std::string MemoryProcessor::BatchMemoryId(const std::string& batch_id, int64_t index) {
  return DeterministicUuid(batch_id + ":" + std::to_string(index));
}

Status ValidateMemoryInput(const MemoryInput& input, int64_t max_content_bytes) {
  if (input.content.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Status::InvalidArgument("content must not be empty");
  }
  if (static_cast<int64_t>(input.content.size()) > max_content_bytes) {
    return Status::InvalidArgument("content is " + std::to_string(input.content.size()) +
                                   " bytes, over the limit of " +
                                   std::to_string(max_content_bytes));
  }
  if (input.type != "text" && input.type != "code_snippet" && input.type != "document") {
    return Status::InvalidArgument("type must be text, code_snippet or document");
  }
  return Status::Ok();
}

Result<std::string> MemoryProcessor::Enrich(const MemoryTarget& target,
                                            const MemoryInput& input) const {
  JsonWriter body;
  body.BeginObject()
      .Field("memory_id", target.memory_id)
      .Field("user_id", target.user_id)
      .Field("content", input.content)
      .Field("type", input.type)
      .FieldRaw("metadata", input.metadata_json)
      .EndObject();
  net::HttpClientRequest request;
  request.url = processing_.endpoint;
  request.headers = {{"content-type", "application/json"}};
  request.body = body.Take();
  request.timeout_ms = static_cast<int>(processing_.timeout_ms);
  request.on_progress = target.on_progress;
  ASSIGN_OR_RETURN(net::HttpClientResponse response, net::HttpCall(request));
  if (response.status >= 400 && response.status < 500 && response.status != 408 &&
      response.status != 429) {
    return Status::InvalidArgument("processing endpoint rejected the memory with " +
                                   std::to_string(response.status));
  }
  if (response.status < 200 || response.status >= 300) {
    return Status::Unavailable("processing endpoint answered " + std::to_string(response.status));
  }
  // Keep the answer only if it is valid JSON, minified.
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(response.body).get(doc) != simdjson::SUCCESS) {
    return Status::Unavailable("processing endpoint answered invalid JSON");
  }
  return simdjson::minify(doc);
}

Result<storage::MemoryRecord> MemoryProcessor::Process(const MemoryTarget& target,
                                                       const MemoryInput& input) {
  RETURN_IF_ERROR(ValidateMemoryInput(input, max_content_bytes_));
  // A retry after a crash finds the memory already stored: answer with it, do not redo work.
  if (target.may_exist) {
    auto existing = store_->Get(target.user_id, target.memory_id);
    if (existing.ok()) return existing;
    if (!existing.status().IsNotFound()) return existing.status();
  }

  storage::MemoryRecord record;
  record.id = target.memory_id;
  record.user_id = target.user_id;
  record.content = input.content;
  record.type = input.type;
  record.metadata_json = input.metadata_json.empty() ? "{}" : input.metadata_json;
  record.context_json = input.context_json.empty() ? "[]" : input.context_json;
  record.external_user_id = input.external_user_id;
  record.created_at_ms = clock_->NowMillis();
  record.content_hash = Sha256Hex(input.content);
  record.word_count = storage::CountWords(input.content);
  record.keywords = storage::ExtractKeywords(input.content);
  record.batch_id = target.batch_id;
  record.batch_index = target.batch_index;
  if (!processing_.endpoint.empty()) {
    ASSIGN_OR_RETURN(record.enrichment_json, Enrich(target, input));
  }
  if (target.defer_writes_to != nullptr) {
    RETURN_IF_ERROR(store_->PrepareWrite(record, target.defer_writes_to));
    return record;
  }
  ASSIGN_OR_RETURN(bool written, store_->Put(record));
  if (!written) return store_->Get(target.user_id, target.memory_id);
  return record;
}

int64_t ItemErrorCode(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument: return 422;
    case StatusCode::kUnavailable: return 502;
    case StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

}  // namespace papr::workflows
