#include "storage/store.h"

namespace papr::storage {

Result<std::vector<std::optional<std::string>>> StoreReader::MultiGet(
    Table table, const std::vector<std::string>& keys) const {
  std::vector<std::optional<std::string>> values;
  values.reserve(keys.size());
  for (const auto& key : keys) {
    ASSIGN_OR_RETURN(std::optional<std::string> value, Get(table, key));
    values.push_back(std::move(value));
  }
  return values;
}

}  // namespace papr::storage
