// Walks a YAML tree and assigns each key through the table of config_keys.cc. This is the
// only file that includes yaml-cpp; its exceptions stop here and become a Status.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <string>
#include <type_traits>

#include <yaml-cpp/yaml.h>

#include "config/internal/config_keys.h"

namespace papr::config::internal {
namespace {

//! State of one load: where messages point and which paths were already set.
struct Reader {
  const std::string& source;
  Config& config;
  std::set<std::string> seen;

  std::string Where(const YAML::Mark& mark) const {
    if (mark.is_null()) return source;
    return source + ":" + std::to_string(mark.line + 1);
  }
  Status Error(const YAML::Mark& mark, const std::string& message) const {
    return Status::InvalidArgument(Where(mark) + ": " + message);
  }
  Status TypeError(const YAML::Mark& mark, const std::string& path, const char* type,
                   const YAML::Node& got) const {
    return Error(mark, "key '" + path + "' expects " + type + ", got " + Describe(got));
  }
  static std::string Describe(const YAML::Node& node) {
    if (node.IsMap()) return "a mapping";
    if (node.IsSequence()) return "a list";
    if (node.IsNull()) return "nothing (null)";
    if (node.Tag() == "!") return "the quoted string \"" + node.Scalar() + "\"";
    return "'" + node.Scalar() + "'";
  }
};

// A quoted scalar (or one tagged !!str) is a string even if it looks like a number.
bool IsString(const YAML::Node& node) {
  return node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str";
}

bool DecodeInt(const YAML::Node& node, int64_t& out) {
  if (!node.IsScalar() || IsString(node)) return false;
  const std::string& text = node.Scalar();
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 10);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

bool DecodeDouble(const YAML::Node& node, double& out) {
  if (!node.IsScalar() || IsString(node)) return false;
  const std::string& text = node.Scalar();
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty() &&
         std::isfinite(out);
}

bool DecodeBool(const YAML::Node& node, bool& out) {
  if (!node.IsScalar() || IsString(node)) return false;
  return YAML::convert<bool>::decode(node, out);
}

// Null reads as the empty string: `endpoint:` means no endpoint.
bool DecodeString(const YAML::Node& node, std::string& out) {
  if (node.IsNull()) {
    out.clear();
    return true;
  }
  if (!node.IsScalar()) return false;
  out = node.Scalar();
  return true;
}

Status ReadApiKey(const Reader& r, const YAML::Node& item, const std::string& path, ApiKey& out) {
  if (!item.IsMap()) return r.TypeError(item.Mark(), path, "a mapping {key, user_id}", item);
  std::set<std::string> seen;
  for (const auto& entry : item) {
    const std::string name = entry.first.Scalar();
    const std::string field_path = path + "." + name;
    std::string* target = name == "key"       ? &out.key
                          : name == "user_id" ? &out.user_id
                          : name == "plan"    ? &out.plan
                                              : nullptr;
    if (target == nullptr) return r.Error(entry.first.Mark(), "unknown key '" + field_path + "'");
    if (!entry.second.IsScalar()) {
      return r.TypeError(entry.first.Mark(), field_path, "string", entry.second);
    }
    if (!seen.insert(name).second) {
      return r.Error(entry.first.Mark(), "duplicate key '" + field_path + "'");
    }
    *target = entry.second.Scalar();
  }
  if (!seen.contains("key")) return r.Error(item.Mark(), "'" + path + "' is missing 'key'");
  if (!seen.contains("user_id")) return r.Error(item.Mark(), "'" + path + "' is missing 'user_id'");
  if (auto problem = ApiKeyProblem(out)) return r.Error(item.Mark(), path + "." + *problem);
  return Status::Ok();
}

// Reads a list whose items decode with `decode(reader, item, item_path, out)`.
template <typename T, typename Decode>
Status ReadList(const Reader& r, const YAML::Node& node, const YAML::Mark& key_mark,
                const std::string& path, const char* type, Decode decode, std::vector<T>& out) {
  if (node.IsNull()) {
    out.clear();
    return Status::Ok();
  }
  if (!node.IsSequence()) return r.TypeError(key_mark, path, type, node);
  std::vector<T> items(node.size());
  for (size_t i = 0; i < node.size(); ++i) {
    RETURN_IF_ERROR(decode(r, node[i], path + "[" + std::to_string(i) + "]", items[i]));
  }
  out = std::move(items);
  return Status::Ok();
}

// Wraps a scalar decoder (bool(const Node&, T&)) as a list item decoder.
template <typename T, bool (*kDecode)(const YAML::Node&, T&)>
Status ListItem(const Reader& r, const YAML::Node& item, const std::string& path, T& out) {
  if (kDecode(item, out)) return Status::Ok();
  const char* type = std::is_same_v<T, int64_t> ? "int" : "string";
  return r.TypeError(item.Mark(), path, type, item);
}

Status ReadPlan(const Reader& r, const YAML::Node& item, const std::string& path, Plan& out) {
  if (!item.IsMap()) return r.TypeError(item.Mark(), path, "a mapping {name, ...}", item);
  const std::pair<const char*, int64_t*> ints[] = {
      {"max_batch_size", &out.max_batch_size},
      {"max_open_batches", &out.max_open_batches},
      {"max_queued_memories", &out.max_queued_memories},
      {"max_document_bytes", &out.max_document_bytes}};
  std::set<std::string> seen;
  for (const auto& entry : item) {
    const std::string name = entry.first.Scalar();
    const std::string field_path = path + "." + name;
    const YAML::Mark mark = entry.first.Mark();
    if (!seen.insert(name).second) return r.Error(mark, "duplicate key '" + field_path + "'");
    if (name == "name") {
      if (!DecodeString(entry.second, out.name)) return r.TypeError(mark, field_path, "string", entry.second);
      continue;
    }
    if (name == "webhook_retry_schedule_seconds") {
      RETURN_IF_ERROR(ReadList(r, entry.second, mark, field_path, "list<int>",
                               ListItem<int64_t, DecodeInt>, out.webhook_retry_schedule_seconds));
      continue;
    }
    auto it = std::find_if(std::begin(ints), std::end(ints),
                           [&](const auto& field) { return name == field.first; });
    if (it == std::end(ints)) return r.Error(mark, "unknown key '" + field_path + "'");
    if (!DecodeInt(entry.second, *it->second) || *it->second < 0) {
      return r.TypeError(mark, field_path, "int >= 0", entry.second);
    }
  }
  if (out.name.empty()) return r.Error(item.Mark(), "'" + path + "' is missing 'name'");
  return Status::Ok();
}

//! Assigns one YAML value to the Config field of a key; std::visit picks the key's type.
struct Assigner {
  Reader& r;
  const YAML::Node& value;
  const YAML::Mark& key_mark;
  const std::string path;
  const char* type;

  template <typename T>
  Status Scalar(FieldRef<T> field, bool (*decode)(const YAML::Node&, T&)) {
    if (decode(value, field(r.config))) return Status::Ok();
    return r.TypeError(key_mark, path, type, value);
  }
  template <typename T, typename Decode>
  Status List(FieldRef<std::vector<T>> field, Decode decode) {
    return ReadList(r, value, key_mark, path, type, decode, field(r.config));
  }
  Status operator()(FieldRef<bool> f) { return Scalar(f, DecodeBool); }
  Status operator()(FieldRef<int64_t> f) { return Scalar(f, DecodeInt); }
  Status operator()(FieldRef<double> f) { return Scalar(f, DecodeDouble); }
  Status operator()(FieldRef<std::string> f) { return Scalar(f, DecodeString); }
  Status operator()(FieldRef<std::vector<int64_t>> f) {
    return List(f, ListItem<int64_t, DecodeInt>);
  }
  Status operator()(FieldRef<std::vector<std::string>> f) {
    return List(f, ListItem<std::string, DecodeString>);
  }
  Status operator()(FieldRef<std::vector<ApiKey>> f) { return List(f, ReadApiKey); }
  Status operator()(FieldRef<std::vector<Plan>> f) { return List(f, ReadPlan); }
};

Status ReadMapping(Reader& r, const YAML::Node& map, const std::string& prefix) {
  // Range-for keeps each pair alive; `const Node& k = it->first` would dangle (proxy).
  for (const auto& entry : map) {
    const YAML::Node& key = entry.first;
    const YAML::Node& value = entry.second;
    const YAML::Mark mark = key.Mark();
    if (!key.IsScalar()) return r.Error(mark, "keys must be plain names");
    const std::string path = prefix.empty() ? key.Scalar() : prefix + "." + key.Scalar();
    if (key.Scalar().find('.') != std::string::npos) {
      return r.Error(mark, "unknown key '" + path + "' (write nested mappings, not dots)");
    }
    if (!r.seen.insert(path).second) return r.Error(mark, "duplicate key '" + path + "'");
    if (const KeySpec* spec = FindKeySpec(path)) {
      RETURN_IF_ERROR(
          std::visit(Assigner{r, value, mark, path, TypeName(spec->field)}, spec->field));
    } else if (IsSection(path)) {
      if (value.IsNull()) continue;  // `features:` with nothing under it: defaults.
      if (!value.IsMap()) return r.Error(mark, "section '" + path + "' must be a mapping");
      RETURN_IF_ERROR(ReadMapping(r, value, path));
    } else {
      return r.Error(mark, "unknown key '" + path + "'");
    }
  }
  return Status::Ok();
}

}  // namespace

Status ParseYamlInto(const std::string& yaml_text, const std::string& source_name, Config& config) {
  Reader reader{source_name, config, {}};
  try {
    YAML::Node root = YAML::Load(yaml_text);
    if (root.IsNull()) return Status::Ok();  // Empty file or only comments: all defaults.
    if (!root.IsMap()) {
      return reader.Error(root.Mark(), "the top level must be a mapping of config keys");
    }
    return ReadMapping(reader, root, "");
  } catch (const YAML::Exception& e) {
    return reader.Error(e.mark, "invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(source_name + ": cannot read config: " + e.what());
  }
}

}  // namespace papr::config::internal
