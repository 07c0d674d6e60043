#include "api/user_request_decoder.h"

#include "api/internal/json_fields.h"
#include "api/request_checks.h"

namespace papr::api {
namespace {

using namespace internal;  // NOLINT(google-build-using-namespace): the decoders' vocabulary
using simdjson::SUCCESS;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

constexpr size_t kMaxEmailBytes = 320;

bool DecodeUserFields(const object& obj, const MemoryFieldLimits& limits, bool create,
                      const std::string& at, workflows::EndUserInput* out, FieldError* fe) {
  std::string external_id, email, type;
  if (!GetOptionalString(obj, "external_id", &external_id, fe) ||
      !GetOptionalString(obj, "email", &email, fe) || !GetOptionalString(obj, "type", &type, fe)) {
    fe->field = at + fe->field;
    return false;
  }
  if (Optional(obj, "external_id") || create) {
    if (!IsValidEndUserId(external_id)) {
      return Fail(fe, at + "external_id",
                  at + "external_id is required: 1 to 256 bytes without control characters");
    }
    out->external_id = external_id;
  }
  if (Optional(obj, "email")) {
    if (!IsPrintableText(email, kMaxEmailBytes)) {
      return Fail(fe, at + "email", at + "email must be 1 to 320 bytes without control characters");
    }
    out->email = email;
  }
  if (Optional(obj, "type")) {
    if (type != "developerUser" && type != "user" && type != "agent") {
      return Fail(fe, at + "type", at + "type must be one of developerUser, user, agent");
    }
    out->type = type;
  }
  if (std::optional<element> metadata = Optional(obj, "metadata")) {
    if (!metadata->is_object()) return Fail(fe, at + "metadata", at + "metadata must be an object");
    LimitViolation violation;
    if (!CheckMetadataLimits(*metadata, limits, &violation)) {
      violation.field = at + violation.field;
      return FailLimit(fe, std::move(violation));
    }
    out->metadata_json = simdjson::minify(*metadata);
  }
  return true;
}

bool DecodeOne(std::string_view body, const MemoryFieldLimits& limits, bool create,
               workflows::EndUserInput* out, ApiError* error) {
  simdjson::dom::parser parser;
  object root;
  if (!ParseObjectBody(&parser, body, &root, error)) return false;
  FieldError fe;
  workflows::EndUserInput input;
  if (!DecodeUserFields(root, limits, create, "", &input, &fe)) {
    *error = FieldErrorAnswer(400, fe);
    return false;
  }
  *out = std::move(input);
  return true;
}

}  // namespace

bool DecodeUserCreate(std::string_view body, const MemoryFieldLimits& limits,
                      workflows::EndUserInput* out, ApiError* error) {
  return DecodeOne(body, limits, /*create=*/true, out, error);
}

bool DecodeUserUpdate(std::string_view body, const MemoryFieldLimits& limits,
                      workflows::EndUserInput* out, ApiError* error) {
  return DecodeOne(body, limits, /*create=*/false, out, error);
}

bool DecodeUserBatch(std::string_view body, const MemoryFieldLimits& limits,
                     std::vector<workflows::EndUserInput>* out, ApiError* error) {
  simdjson::dom::parser parser;
  object root;
  if (!ParseObjectBody(&parser, body, &root, error)) return false;
  array users;
  std::optional<element> list = Optional(root, "users");
  if (!list || list->get_array().get(users) != SUCCESS || users.size() == 0 ||
      users.size() > kMaxUsersPerBatch) {
    *error = FieldErrorAnswer(
        400, {"users", "users must be an array of 1 to " + std::to_string(kMaxUsersPerBatch) +
                           " users"});
    return false;
  }
  std::vector<workflows::EndUserInput> inputs;
  size_t index = 0;
  for (element user : users) {
    std::string at = "users[" + std::to_string(index++) + "].";
    object obj;
    FieldError fe;
    workflows::EndUserInput input;
    if (user.get_object().get(obj) != SUCCESS) {
      Fail(&fe, at.substr(0, at.size() - 1), at.substr(0, at.size() - 1) + " must be an object");
    } else {
      DecodeUserFields(obj, limits, /*create=*/true, at, &input, &fe);
    }
    if (!fe.message.empty()) {
      *error = FieldErrorAnswer(400, fe);
      return false;
    }
    inputs.push_back(std::move(input));
  }
  *out = std::move(inputs);
  return true;
}

}  // namespace papr::api
