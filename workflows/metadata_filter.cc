#include "workflows/metadata_filter.h"

#include <algorithm>

#include <simdjson.h>

namespace papr::workflows {
namespace {

using simdjson::SUCCESS;
using simdjson::dom::element;
using simdjson::dom::object;

constexpr std::string_view kCustom = "customMetadata";
// Bounds on one search's matching work: conditions x accepted values x candidates.
constexpr size_t kMaxConditions = 64;
constexpr size_t kMaxAcceptedValues = 256;

std::vector<std::string> AcceptedValues(element value) {
  std::vector<std::string> out;
  simdjson::dom::array items;
  if (value.get_array().get(items) == SUCCESS) {
    for (element e : items) out.push_back(simdjson::minify(e));
  } else {
    out.push_back(simdjson::minify(value));
  }
  return out;
}

bool ValueMatches(element value, const std::vector<std::string>& accepted) {
  auto accepts = [&](element e) {
    return std::find(accepted.begin(), accepted.end(), simdjson::minify(e)) != accepted.end();
  };
  simdjson::dom::array items;
  if (value.get_array().get(items) != SUCCESS) return accepts(value);
  for (element e : items) {
    if (accepts(e)) return true;
  }
  return false;
}

}  // namespace

Result<MetadataFilter> MetadataFilter::Parse(std::string_view filter_json) {
  simdjson::dom::parser parser;
  object root;
  if (parser.parse(filter_json.data(), filter_json.size()).get(root) != SUCCESS) {
    return Status::InvalidArgument("metadata filter must be a JSON object");
  }
  MetadataFilter filter;
  for (auto [key, value] : root) {
    if (value.is_null()) continue;  // clients send unset fields as null
    object custom;
    if (key == kCustom && value.get_object().get(custom) == SUCCESS) {
      for (auto [ckey, cvalue] : custom) {
        if (!cvalue.is_null()) {
          filter.conditions_.push_back({true, std::string(ckey), AcceptedValues(cvalue)});
        }
      }
      continue;
    }
    filter.conditions_.push_back({false, std::string(key), AcceptedValues(value)});
  }
  if (filter.conditions_.size() > kMaxConditions) {
    return Status::InvalidArgument("metadata filter has more than 64 fields");
  }
  for (const auto& c : filter.conditions_) {
    if (c.accepted.size() > kMaxAcceptedValues) {
      return Status::InvalidArgument("metadata filter field " + c.field.substr(0, 100) +
                                     " lists more than 256 values");
    }
  }
  return filter;
}

bool MetadataFilter::Matches(std::string_view metadata_json) const {
  if (conditions_.empty()) return true;
  simdjson::dom::parser parser;
  object root;
  if (parser.parse(metadata_json.data(), metadata_json.size()).get(root) != SUCCESS) return false;
  object custom;
  bool has_custom = root.at_key(kCustom).get_object().get(custom) == SUCCESS;
  for (const Condition& c : conditions_) {
    element value;
    if (c.custom ? !has_custom || custom.at_key(c.field).get(value) != SUCCESS
                 : root.at_key(c.field).get(value) != SUCCESS) {
      return false;
    }
    if (!ValueMatches(value, c.accepted)) return false;
  }
  return true;
}

}  // namespace papr::workflows
