#pragma once

#include <string_view>

namespace papr::api {

// The OpenAPI 3.1 document of the HTTP API (api/openapi.json, compiled in; GET /openapi.json).
std::string_view OpenApiDocument();

}  // namespace papr::api
