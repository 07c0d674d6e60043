// Routes of end users (Papr's /v1/user): create, batch-create, list, get, update, delete.

#include "api/internal/route_helpers.h"
#include "api/internal/router_rep.h"
#include "api/user_request_decoder.h"

namespace papr::api {
namespace {

constexpr int64_t kMaxPageSize = 100;

// Papr's UserResponse fields, into an open object.
void WriteUserFields(JsonWriter& w, const storage::EndUserRecord& u) {
  w.Field("code", 200).Field("status", "success").Field("user_id", u.id);
  w.Field("external_id", u.external_id).FieldOrNull("email", u.email);
  w.FieldRaw("metadata", u.metadata_json).Field("type", u.type);
  w.Field("created_at", FormatRfc3339(u.created_at_ms));
  w.Field("updated_at", FormatRfc3339(u.updated_at_ms));
}

HttpResponse UserAnswer(const storage::EndUserRecord& u) {
  JsonWriter w;
  w.BeginObject();
  WriteUserFields(w, u);
  w.EndObject();
  return HttpResponse::Json(200, w.Take());
}

// The {user_id} of a route: an id, or an external id when ?is_external=true.
workflows::EndUserRef RefOf(const HttpRequest& req, const std::string& id) {
  std::string is_external;
  return {id, req.QueryParam("is_external", &is_external) && is_external == "true"};
}

}  // namespace

HttpResponse Router::Rep::CreateUser(const HttpRequest& req, const std::string& user) {
  workflows::EndUserInput input;
  ApiError error;
  if (!DecodeUserCreate(req.body, Limits(user).fields, &input, &error)) return ErrorResponse(error);
  auto created = deps.end_users->Create(user, input);
  if (!created.ok()) return StatusError(created.status());
  return UserAnswer(*created);
}

HttpResponse Router::Rep::CreateUsers(const HttpRequest& req, const std::string& user) {
  std::vector<workflows::EndUserInput> inputs;
  ApiError error;
  if (!DecodeUserBatch(req.body, Limits(user).fields, &inputs, &error)) return ErrorResponse(error);
  JsonWriter w;
  w.BeginObject().Field("code", 200).Field("status", "success").Key("data").BeginArray();
  for (const auto& input : inputs) {
    auto created = deps.end_users->Create(user, input);
    if (!created.ok()) return StatusError(created.status());  // the ones before it stay
    w.BeginObject();
    WriteUserFields(w, *created);
    w.EndObject();
  }
  w.EndArray().Field("total", static_cast<int64_t>(inputs.size())).EndObject();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse Router::Rep::ListUsers(const HttpRequest& req, const std::string& user) {
  int64_t page = 1, page_size = 10;
  HttpResponse bad;
  if (!IntParam(req, "page", 1, 1'000'000, 1, &page, &bad) ||
      !IntParam(req, "page_size", 1, kMaxPageSize, 10, &page_size, &bad)) {
    return bad;
  }
  std::optional<std::string> filters[2];
  const char* names[2] = {"email", "external_id"};
  for (int i = 0; i < 2; ++i) {
    std::string v;
    if (req.QueryParam(names[i], &v)) filters[i] = std::move(v);
  }
  auto listed = deps.end_users->List(user, filters[0], filters[1], page, page_size);
  if (!listed.ok()) return StatusError(listed.status());
  JsonWriter w;
  w.BeginObject().Field("code", 200).Field("status", "success").Key("data").BeginArray();
  for (const auto& u : listed->users) {
    w.BeginObject();
    WriteUserFields(w, u);
    w.EndObject();
  }
  w.EndArray().Field("page", page).Field("page_size", page_size);
  w.Field("total", listed->total).EndObject();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse Router::Rep::GetUser(const HttpRequest& req, const std::string& user,
                                  const std::string& id) {
  auto found = deps.end_users->Get(user, RefOf(req, id));
  return found.ok() ? UserAnswer(*found) : StatusError(found.status());
}

HttpResponse Router::Rep::UpdateUser(const HttpRequest& req, const std::string& user,
                                     const std::string& id) {
  workflows::EndUserInput input;
  ApiError error;
  if (!DecodeUserUpdate(req.body, Limits(user).fields, &input, &error)) return ErrorResponse(error);
  auto updated = deps.end_users->Update(user, RefOf(req, id), input);
  if (updated.status().code() == StatusCode::kInvalidArgument) {
    return SimpleError(422, updated.status().message(), R"({"field":"external_id"})");
  }
  return updated.ok() ? UserAnswer(*updated) : StatusError(updated.status());
}

HttpResponse Router::Rep::DeleteUser(const HttpRequest& req, const std::string& user,
                                     const std::string& id) {
  auto deleted = deps.end_users->Delete(user, RefOf(req, id));
  if (!deleted.ok()) return StatusError(deleted.status());
  JsonWriter w;
  w.BeginObject().Field("code", 200).Field("status", "success");
  w.Field("message", "user deleted with " + std::to_string(deleted->second) + " memories");
  w.Field("user_id", deleted->first.id).Key("details").BeginObject();
  w.Field("external_id", deleted->first.external_id).Field("memories_deleted", deleted->second);
  w.EndObject().EndObject();
  return HttpResponse::Json(200, w.Take());
}

}  // namespace papr::api
