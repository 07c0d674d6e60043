#pragma once

#include <string_view>
#include <vector>

#include "api/api_error.h"
#include "api/memory_limits.h"
#include "workflows/end_users.h"

namespace papr::api {

// Most users one POST /v1/user/batch creates.
inline constexpr size_t kMaxUsersPerBatch = 1000;

// Papr's UserCreateParams: external_id (required, 1-256 bytes, no control character), email
// (at most 320 bytes), metadata (an object, the memory metadata limits), type (developerUser,
// user or agent). Failures are 400 naming the field (422 for a metadata limit).
bool DecodeUserCreate(std::string_view body, const MemoryFieldLimits& limits,
                      workflows::EndUserInput* out, ApiError* error);
// UserUpdateParams: the same fields, all optional.
bool DecodeUserUpdate(std::string_view body, const MemoryFieldLimits& limits,
                      workflows::EndUserInput* out, ApiError* error);
// UserCreateBatchParams: {"users": [1..kMaxUsersPerBatch UserCreateParams]}; a bad user
// fails the request naming its index ("users[3].external_id").
bool DecodeUserBatch(std::string_view body, const MemoryFieldLimits& limits,
                     std::vector<workflows::EndUserInput>* out, ApiError* error);

}  // namespace papr::api
