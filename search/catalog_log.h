#pragma once

// Cluster mode: one node (the index writer) changes the search index; the others follow its
// catalog through a change log in kMeta (storage::MetaSearchLogKey), written in the same
// fenced commit as each change. A follower reads the entries after the one it applied, loads
// the segment and tombstone rows they name, and forgets the rows they removed.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace papr::search {

//! One commit of the index writer, as followers need it.
struct CatalogChange {
  std::vector<std::string> added;    // kSegments keys written: segments and tombstones
  std::vector<std::string> removed;  // kSegments keys of segments merged away
  std::vector<uint64_t> taken_in;    // queue sequences the commit took in (waiters wake)
};

std::string EncodeCatalogChange(const CatalogChange& change);
bool DecodeCatalogChange(std::string_view bytes, CatalogChange* change);

// Entries kept behind the newest: a follower further behind reloads the whole catalog.
inline constexpr uint64_t kCatalogLogKept = 256;

}  // namespace papr::search
