#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"
#include "config/config.h"

namespace papr::config::internal {

//! Returns a reference to one field of a Config. One per key; the variant alternative is
//! the key's type, so the type is declared once, by the field itself.
template <typename T>
using FieldRef = T& (*)(Config&);
using Field = std::variant<FieldRef<bool>, FieldRef<int64_t>, FieldRef<std::string>,
                           FieldRef<std::vector<int64_t>>, FieldRef<std::vector<std::string>>,
                           FieldRef<std::vector<ApiKey>>, FieldRef<double>,
                           FieldRef<std::vector<Plan>>>;

//! One config key: the single declaration that loading, validation and docs derive from.
struct KeySpec {
  const char* path;            // YAML path, e.g. "features.max_batch_size".
  Field field;                 // Where the value lives in Config (and so its type).
  std::optional<int64_t> min;  // Smallest valid value of an int or number (or list<int> item).
  const char* doc;
};

const std::vector<KeySpec>& KeySpecs();
// nullptr if `path` is not a key.
const KeySpec* FindKeySpec(std::string_view path);
// True if `path` is a section (a proper prefix of some key path, e.g. "features").
bool IsSection(std::string_view path);
// "bool", "int", "string", "list<int>", "list<string>", "list<api_key>" or "number".
const char* TypeName(const Field& field);

// Problem with one api key ("user_id must not contain '/'"), or nullopt if it is fine.
std::optional<std::string> ApiKeyProblem(const ApiKey& api_key);

// Parses YAML text and assigns every key it sets into `config`. Never throws.
Status ParseYamlInto(const std::string& yaml_text, const std::string& source_name, Config& config);

}  // namespace papr::config::internal
