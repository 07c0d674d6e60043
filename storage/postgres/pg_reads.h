#pragma once

// The reads of PostgresStore and its snapshots, on one borrowed connection.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/postgres/pg_connection.h"
#include "storage/store.h"

namespace papr::storage::pg {

Result<std::optional<std::string>> ReadRow(PgConnection& conn, Table table, std::string_view key);
// One statement for all `keys`: values in the order of `keys`.
Result<std::vector<std::optional<std::string>>> ReadRows(PgConnection& conn, Table table,
                                                         const std::vector<std::string>& keys);
Result<ScanPage> ReadRange(PgConnection& conn, Table table, std::string_view start,
                           std::string_view end, size_t limit);
Result<std::pair<int64_t, int64_t>> ReadCounters(PgConnection& conn, Table table,
                                                 std::string_view key);

// The shards and nodes tables, for operators.
Result<std::vector<ShardStatus>> ReadShards(PgConnection& conn);
Result<std::vector<NodeStatus>> ReadNodes(PgConnection& conn);

}  // namespace papr::storage::pg
