#pragma once

// The reads of RocksDbStore and its snapshots: Db reads at an optional RocksDB snapshot.

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "storage/db.h"
#include "storage/store.h"

namespace rocksdb {
class Snapshot;
}  // namespace rocksdb

namespace papr::storage::rocksdb_internal {

// `snapshot` null: the latest state.
Result<std::optional<std::string>> GetAt(const Db& db, const rocksdb::Snapshot* snapshot,
                                         Table table, std::string_view key);
Result<ScanPage> ScanAt(const Db& db, const rocksdb::Snapshot* snapshot, Table table,
                        std::string_view start, std::string_view end, size_t limit);
Result<std::pair<int64_t, int64_t>> GetCountersAt(const Db& db, const rocksdb::Snapshot* snapshot,
                                                  Table table, std::string_view key);
// A StoreSnapshot over a new RocksDB snapshot of `db`. REQUIRES: `db` outlives it.
std::unique_ptr<StoreSnapshot> NewRocksSnapshot(const Db& db);

}  // namespace papr::storage::rocksdb_internal
