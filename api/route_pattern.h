#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace papr::api {

//! A route's path pattern: literal segments and `{name}` parameters (one non-empty segment);
//! at most one `{name+}` parameter takes one or more segments (ids such as "root/chunk-0").
//! The router's table and the OpenAPI document use the same patterns.
class RoutePattern {
 public:
  explicit RoutePattern(std::string_view pattern);

  // True when `path` matches; `*params` then holds the parameters' values in pattern order.
  bool Match(std::string_view path, std::vector<std::string>* params) const;
  // Literal segments: of two patterns matching a path, the one with more is the route
  // ("/v1/memory/search" over "/v1/memory/{memory_id}").
  size_t literal_count() const { return literals_; }
  // The parameters' names in pattern order.
  std::vector<std::string> ParamNames() const;
  // The pattern as OpenAPI writes it: "{name+}" becomes "{name}".
  std::string OpenApiPath() const;

 private:
  struct Segment {
    std::string text;  // the literal, or the parameter's name
    bool param = false;
    bool greedy = false;
  };
  std::vector<Segment> segments_;
  size_t literals_ = 0;
};

// The '/'-separated segments of a path after its leading '/' ("/a//b" -> "a", "", "b").
std::vector<std::string_view> PathSegments(std::string_view path);

}  // namespace papr::api
