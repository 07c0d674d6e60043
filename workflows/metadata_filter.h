#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace papr::workflows {

//! A search's `metadata` filter. Each field of the filter object must match the memory's
//! metadata field of the same name; fields of a `customMetadata` object match the memory's
//! `customMetadata` fields. A filter value matches when it equals the memory's value, or one
//! of the memory's values when that is an array; an array filter value matches when any of
//! its elements does (any-of). Values compare as JSON (minified text). Thread-compatible.
class MetadataFilter {
 public:
  // `filter_json` is a JSON object (the decoder checked it). An empty object filters nothing.
  static Result<MetadataFilter> Parse(std::string_view filter_json);

  bool empty() const { return conditions_.empty(); }
  // True when the memory's metadata (a JSON object) satisfies every condition.
  bool Matches(std::string_view metadata_json) const;

 private:
  struct Condition {
    bool custom = false;                // inside customMetadata
    std::string field;
    std::vector<std::string> accepted;  // minified JSON values, any of which matches
  };
  std::vector<Condition> conditions_;
};

}  // namespace papr::workflows
