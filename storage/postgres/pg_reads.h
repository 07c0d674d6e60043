#pragma once

// The reads of PostgresStore and its snapshots, on one borrowed connection.

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "storage/postgres/pg_connection.h"
#include "storage/store.h"

namespace papr::storage::pg {

Result<std::optional<std::string>> ReadRow(PgConnection& conn, Table table, std::string_view key);
Result<ScanPage> ReadRange(PgConnection& conn, Table table, std::string_view start,
                           std::string_view end, size_t limit);
Result<std::pair<int64_t, int64_t>> ReadCounters(PgConnection& conn, Table table,
                                                 std::string_view key);

}  // namespace papr::storage::pg
