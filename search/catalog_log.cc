#include "search/catalog_log.h"

#include "common/byte_codec.h"

namespace papr::search {
namespace {

void PutKeys(std::string* out, const std::vector<std::string>& keys) {
  PutVarint64(out, keys.size());
  for (const auto& k : keys) PutLengthPrefixed(out, k);
}

bool GetKeys(std::string_view* in, std::vector<std::string>* keys) {
  uint64_t n = 0;
  if (!GetVarint64(in, &n) || n > in->size()) return false;  // each key takes a byte at least
  keys->resize(n);
  for (auto& k : *keys) {
    if (!GetLengthPrefixed(in, &k)) return false;
  }
  return true;
}

}  // namespace

std::string EncodeCatalogChange(const CatalogChange& change) {
  std::string out;
  PutKeys(&out, change.added);
  PutKeys(&out, change.removed);
  PutVarint64(&out, change.taken_in.size());
  for (uint64_t s : change.taken_in) PutVarint64(&out, s);
  return out;
}

bool DecodeCatalogChange(std::string_view bytes, CatalogChange* change) {
  uint64_t n = 0;
  if (!GetKeys(&bytes, &change->added) || !GetKeys(&bytes, &change->removed) ||
      !GetVarint64(&bytes, &n) || n > bytes.size()) {
    return false;
  }
  change->taken_in.resize(n);
  for (auto& s : change->taken_in) {
    if (!GetVarint64(&bytes, &s)) return false;
  }
  return bytes.empty();
}

}  // namespace papr::search
