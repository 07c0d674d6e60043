#include "storage/store.h"

namespace papr::storage {

Result<std::vector<std::optional<std::string>>> StoreReader::MultiGet(
    Table table, const std::vector<std::string>& keys) const {
  return GetEachKey(keys, [&](const std::string& key) { return Get(table, key); });
}

}  // namespace papr::storage
