#include "api/memory_limits.h"

#include <set>
#include <string_view>

namespace papr::api {
namespace {

using simdjson::SUCCESS;
using simdjson::dom::element;
using simdjson::dom::element_type;

bool Violate(LimitViolation* v, std::string field, std::string limit, int64_t max,
             int64_t actual, const std::string& what) {
  v->field = std::move(field);
  v->limit = std::move(limit);
  v->max = max;
  v->actual = actual;
  v->message = v->field + " " + what + " (" + v->limit + " = " + std::to_string(max) +
               ", got " + std::to_string(actual) + ")";
  return false;
}

//! Walks metadata once, counting keys and checking depth and string sizes.
class MetadataWalker {
 public:
  MetadataWalker(const MemoryFieldLimits& limits, LimitViolation* v) : limits_(limits), v_(v) {}

  bool Walk(element e, const std::string& path, int64_t depth) {
    bool container = e.type() == element_type::OBJECT || e.type() == element_type::ARRAY;
    if (container && depth > limits_.max_metadata_depth) {
      return Violate(v_, path, "limits.max_metadata_depth", limits_.max_metadata_depth, depth,
                     "is nested too deeply");
    }
    switch (e.type()) {
      case element_type::OBJECT: {
        simdjson::dom::object obj;
        return e.get_object().get(obj) != SUCCESS || WalkObject(obj, path, depth);
      }
      case element_type::ARRAY: {
        simdjson::dom::array items;
        if (e.get_array().get(items) != SUCCESS) return true;
        int64_t i = 0;
        for (element item : items) {
          if (!Walk(item, path + "[" + std::to_string(i++) + "]", depth + 1)) return false;
        }
        return true;
      }
      case element_type::STRING: {
        std::string_view text;
        return e.get_string().get(text) != SUCCESS || CheckString(text, path);
      }
      default: return true;
    }
  }

 private:
  bool WalkObject(simdjson::dom::object obj, const std::string& path, int64_t depth) {
    for (auto field : obj) {
      std::string child = path + "." + std::string(field.key);
      if (child.size() > 512) child = path + ".<long key>";
      if (++keys_ > limits_.max_metadata_keys) {
        return Violate(v_, child, "limits.max_metadata_keys", limits_.max_metadata_keys, keys_,
                       "is one key too many");
      }
      if (!CheckString(field.key, child)) return false;
      if (!Walk(field.value, child, depth + 1)) return false;
    }
    return true;
  }

  bool CheckString(std::string_view s, const std::string& path) {
    auto size = static_cast<int64_t>(s.size());
    if (size <= limits_.max_metadata_string_bytes) return true;
    return Violate(v_, path, "limits.max_metadata_string_bytes",
                   limits_.max_metadata_string_bytes, size, "has a string that is too long");
  }

  const MemoryFieldLimits& limits_;
  LimitViolation* v_;
  int64_t keys_ = 0;
};

}  // namespace

bool CheckMetadataLimits(element metadata, const MemoryFieldLimits& limits,
                         LimitViolation* violation) {
  auto bytes = static_cast<int64_t>(simdjson::minify(metadata).size());
  if (bytes > limits.max_metadata_bytes) {
    return Violate(violation, "metadata", "limits.max_metadata_bytes", limits.max_metadata_bytes,
                   bytes, "is too large");
  }
  std::set<std::string_view> top;
  simdjson::dom::object obj;
  if (metadata.get_object().get(obj) != SUCCESS) return true;
  for (auto field : obj) {
    if (!top.insert(field.key).second) {
      violation->field = "metadata." + std::string(field.key).substr(0, 256);
      violation->message = violation->field + " appears twice";
      return false;
    }
  }
  return MetadataWalker(limits, violation).Walk(metadata, "metadata", 1);
}

bool CheckContextLimits(simdjson::dom::array context, const MemoryFieldLimits& limits,
                        LimitViolation* violation) {
  auto items = static_cast<int64_t>(context.size());
  if (items > limits.max_context_items) {
    return Violate(violation, "context", "limits.max_context_items", limits.max_context_items,
                   items, "has too many messages");
  }
  int64_t i = 0;
  for (element message : context) {
    std::string_view role, content;
    // Both were checked to be strings before.
    if (message["role"].get_string().get(role) != SUCCESS) role = {};
    if (message["content"].get_string().get(content) != SUCCESS) content = {};
    auto size = static_cast<int64_t>(role.size() + content.size());
    if (size > limits.max_context_item_bytes) {
      return Violate(violation, "context[" + std::to_string(i) + "]",
                     "limits.max_context_item_bytes", limits.max_context_item_bytes, size,
                     "is too large (role + content)");
    }
    ++i;
  }
  return true;
}

}  // namespace papr::api
