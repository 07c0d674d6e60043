// Routes of single memories: add, get, update, delete, delete-all, search.

#include "api/internal/router_rep.h"
#include "api/internal/route_helpers.h"
#include "api/response_json.h"
#include "common/crypto.h"

namespace papr::api {

HttpResponse Router::Rep::AddMemory(const HttpRequest& req, const std::string& user) {
  workflows::MemoryInput input;
  ApiError error;
  if (!DecodeAddMemory(req.body, Limits(user), &input, &error)) return ErrorResponse(error);
  workflows::MemoryTarget target{user, RandomUuid(), "", -1};
  auto stored = deps.processor->Process(target, input);
  if (!stored.ok()) return StatusError(stored.status());
  JsonWriter w;
  w.BeginObject().Field("code", 200).Field("status", "success").Key("data").BeginArray();
  WriteAddMemoryItem(w, stored->id, stored->created_at_ms);
  w.EndArray().EndObject();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse Router::Rep::GetMemory(const HttpRequest& req, const std::string& user,
                                    const std::string& id) {
  std::optional<std::string> end_user;
  HttpResponse bad;
  if (!EndUserParam(req, &end_user, &bad)) return bad;
  auto memory = deps.editor->Get(user, id, end_user);
  if (!memory.ok()) return StatusError(memory.status());
  JsonWriter w;
  w.BeginObject().Field("code", 200).Field("status", "success").Key("data").BeginObject();
  w.Key("memories").BeginArray();
  WriteMemory(w, *memory);
  w.EndArray().Key("nodes").BeginArray().EndArray().EndObject().EndObject();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse Router::Rep::UpdateMemory(const HttpRequest& req, const std::string& user,
                                       const std::string& id) {
  std::optional<std::string> end_user;
  HttpResponse bad;
  if (!EndUserParam(req, &end_user, &bad)) return bad;
  workflows::MemoryPatch patch;
  ApiError error;
  if (!DecodeUpdateMemory(req.body, Limits(user), &patch, &error)) return ErrorResponse(error);
  auto updated = deps.editor->Update(user, id, patch, end_user);
  if (updated.status().code() == StatusCode::kInvalidArgument) {
    return SimpleError(400, updated.status().message());
  }
  if (!updated.ok()) return StatusError(updated.status());
  // Papr's MemoryUpdateResponse.
  JsonWriter w;
  w.BeginObject().Field("code", 200).Field("status", "success");
  w.Field("message", "memory updated").Key("memory_items").BeginArray().BeginObject();
  w.Field("memoryId", updated->id).Field("objectId", updated->id);
  w.Field("updatedAt", FormatRfc3339(deps.clock->NowMillis()));
  w.Field("content", updated->content).FieldRaw("metadata", updated->metadata_json);
  w.Key("memoryChunkIds").BeginArray().EndArray();
  w.EndObject().EndArray().EndObject();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse Router::Rep::DeleteMemory(const HttpRequest& req, const std::string& user,
                                       const std::string& id) {
  std::optional<std::string> end_user;
  HttpResponse bad;
  if (!EndUserParam(req, &end_user, &bad)) return bad;
  Status s = deps.editor->Delete(user, id, end_user);
  if (!s.ok()) return StatusError(s);
  JsonWriter w;
  w.BeginObject().Field("code", 200).Field("status", "success");
  w.Field("message", "memory deleted").Field("memoryId", id).Field("objectId", id).EndObject();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse Router::Rep::DeleteAllMemories(const HttpRequest& req, const std::string& user) {
  std::optional<std::string> end_user;
  HttpResponse bad;
  if (!EndUserParam(req, &end_user, &bad)) return bad;
  auto deleted = deps.editor->DeleteAll(user, end_user);
  if (!deleted.ok()) return StatusError(deleted.status());
  // Papr answers with a BatchMemoryResponse: the deletions are its items.
  JsonWriter w;
  w.BeginObject().Field("code", 200).Field("status", "success");
  w.Field("message", std::to_string(*deleted) + " memories deleted");
  w.Field("total_processed", *deleted).Field("total_successful", *deleted);
  w.Field("total_failed", 0).Key("successful").BeginArray().EndArray();
  w.Key("errors").BeginArray().EndArray().Key("batch_id").Null().EndObject();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse Router::Rep::Search(const HttpRequest& req, const std::string& user) {
  SearchRequest search;
  ApiError error;
  if (!DecodeSearch(req.body, &search, &error)) return ErrorResponse(error);
  HttpResponse bad;
  const auto& limits = deps.config->limits;
  if (!IntParam(req, "max_memories", 1, limits.max_search_results, search.max_memories,
                &search.max_memories, &bad)) {
    return bad;
  }
  if (search.max_memories > limits.max_search_results) {
    JsonWriter d;
    d.BeginObject().Field("field", "max_memories").Field("limit", "limits.max_search_results");
    d.Field("max", limits.max_search_results).EndObject();
    return SimpleError(400, "max_memories must be at most " +
                                std::to_string(limits.max_search_results), d.Take());
  }
  std::optional<std::string_view> scope;
  if (!search.external_user_id.empty()) scope = search.external_user_id;
  std::optional<workflows::MetadataFilter> filter;
  if (!search.metadata_filter_json.empty()) {
    auto parsed = workflows::MetadataFilter::Parse(search.metadata_filter_json);
    if (!parsed.ok()) return SimpleError(400, parsed.status().message(), R"({"field":"metadata"})");
    filter = std::move(parsed).value();
  }
  auto found = deps.editor->Search(user, search.query, static_cast<size_t>(search.max_memories),
                                   scope, filter ? &*filter : nullptr);
  if (!found.ok()) return StatusError(found.status());
  JsonWriter w;
  w.BeginObject().Field("code", 200).Field("status", "success").Key("data").BeginObject();
  w.Key("memories").BeginArray();
  // Bounded answer: once the body reaches max_response_bytes, lower-ranked hits are left out.
  for (const auto& hit : *found) {
    if (w.str().size() >= static_cast<size_t>(limits.max_response_bytes)) break;
    WriteMemory(w, hit.memory, hit.score);
  }
  w.EndArray().Key("nodes").BeginArray().EndArray().EndObject().EndObject();
  return HttpResponse::Json(200, w.Take());
}

}  // namespace papr::api
