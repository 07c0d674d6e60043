// The route table and the OpenAPI document (api/openapi.json) list the same routes, and the
// patterns match paths as the router relies on.
#include <set>
#include <string>
#include <utility>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "api/openapi_document.h"
#include "api/route_pattern.h"
#include "api/router.h"

namespace papr::api {
namespace {

using Routes = std::set<std::pair<std::string, std::string>>;  // (METHOD, OpenAPI path)

Routes DocumentedRoutes() {
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(std::string(OpenApiDocument()));
  EXPECT_EQ(std::string_view(doc["openapi"]), "3.1.0");
  Routes out;
  for (auto [path, item] : simdjson::dom::object(doc["paths"])) {
    for (auto [method, operation] : simdjson::dom::object(item)) {
      std::string upper(method);
      for (char& c : upper) c = static_cast<char>(std::toupper(c));
      out.emplace(upper, std::string(path));
      EXPECT_FALSE(std::string_view(operation["operationId"]).empty()) << path << " " << method;
    }
  }
  return out;
}

TEST(RouteTableTest, EveryServedRouteIsDocumentedAndEveryDocumentedRouteIsServed) {
  Routes served;
  for (const auto& route : Router::Routes()) {
    EXPECT_TRUE(served.emplace(route.method, RoutePattern(route.pattern).OpenApiPath()).second)
        << "listed twice: " << route.method << " " << route.pattern;
  }
  Routes documented = DocumentedRoutes();
  for (const auto& r : served) {
    EXPECT_TRUE(documented.count(r)) << "served, not in api/openapi.json: " << r.first << " "
                                     << r.second;
  }
  for (const auto& r : documented) {
    EXPECT_TRUE(served.count(r)) << "in api/openapi.json, not served: " << r.first << " "
                                 << r.second;
  }
}

TEST(RouteTableTest, EveryOperationIdIsUniqueAndEveryPathParameterIsDeclared) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(std::string(OpenApiDocument()));
  std::set<std::string> ids;
  for (auto [path, item] : simdjson::dom::object(doc["paths"])) {
    std::vector<std::string> names = RoutePattern(path).ParamNames();
    for (auto [method, operation] : simdjson::dom::object(item)) {
      EXPECT_TRUE(ids.emplace(std::string_view(operation["operationId"])).second) << path;
      std::set<std::string> declared;
      simdjson::dom::array params;
      if (operation["parameters"].get(params) == simdjson::SUCCESS) {
        for (auto p : params) {
          if (std::string_view(p["in"]) == "path") declared.emplace(std::string_view(p["name"]));
        }
      }
      EXPECT_EQ(declared, std::set<std::string>(names.begin(), names.end())) << method << " " << path;
    }
  }
}

TEST(RoutePatternTest, ParametersTakeOneSegmentAndAGreedyOneTakesSeveral) {
  std::vector<std::string> params;
  RoutePattern memory("/v1/memory/{memory_id}");
  ASSERT_TRUE(memory.Match("/v1/memory/abc", &params));
  EXPECT_EQ(params, std::vector<std::string>{"abc"});
  EXPECT_FALSE(memory.Match("/v1/memory/", &params));  // an empty id is no id
  EXPECT_FALSE(memory.Match("/v1/memory/a/b", &params));
  EXPECT_FALSE(memory.Match("/v1/memoryx/a", &params));
  RoutePattern history("/v1/admin/workflows/{workflow_id+}/history");
  ASSERT_TRUE(history.Match("/v1/admin/workflows/root/chunk-0/history", &params));
  EXPECT_EQ(params, std::vector<std::string>{"root/chunk-0"});
  EXPECT_FALSE(history.Match("/v1/admin/workflows/history", &params));
  EXPECT_FALSE(history.Match("/v1/admin/workflows//history", &params));
  EXPECT_EQ(history.OpenApiPath(), "/v1/admin/workflows/{workflow_id}/history");
  EXPECT_EQ(history.ParamNames(), std::vector<std::string>{"workflow_id"});
  EXPECT_GT(RoutePattern("/v1/memory/search").literal_count(), memory.literal_count());
  RoutePattern ui_index("/ui/");
  EXPECT_TRUE(ui_index.Match("/ui/", &params));
  EXPECT_FALSE(RoutePattern("/ui/{file+}").Match("/ui/", &params));
}

}  // namespace
}  // namespace papr::api
