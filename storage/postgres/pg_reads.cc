#include "storage/postgres/pg_reads.h"

#include <libpq-fe.h>

#include "storage/postgres/pg_sql.h"

namespace papr::storage::pg {
namespace {

std::string Field(const pg_result* result, int row, int column) {
  return std::string(PQgetvalue(result, row, column), PQgetlength(result, row, column));
}

}  // namespace

Result<std::optional<std::string>> ReadRow(PgConnection& conn, Table table, std::string_view key) {
  PgParams params;
  params.Bytes(key);
  ASSIGN_OR_RETURN(PgResult result, conn.Exec(KvStatementName(KvOp::kGet, table), params));
  if (PQntuples(result.get()) == 0) return std::optional<std::string>();
  return std::optional<std::string>(Field(result.get(), 0, 0));
}

// Reads one row past the limit: its key is where the next page starts.
Result<ScanPage> ReadRange(PgConnection& conn, Table table, std::string_view start,
                           std::string_view end, size_t limit) {
  if (limit == 0) return Status::InvalidArgument("scan limit must be at least 1");
  PgParams params;
  params.Bytes(start);
  if (!end.empty()) params.Bytes(end);
  params.Int8(static_cast<int64_t>(limit) + 1);
  KvOp op = end.empty() ? KvOp::kScanToEnd : KvOp::kScan;
  ASSIGN_OR_RETURN(PgResult result, conn.Exec(KvStatementName(op, table), params));
  ScanPage page;
  int rows = PQntuples(result.get());
  for (int i = 0; i < rows; ++i) {
    if (page.rows.size() == limit) {
      page.resume_key = Field(result.get(), i, 0);
      break;
    }
    page.rows.emplace_back(Field(result.get(), i, 0), Field(result.get(), i, 1));
  }
  return page;
}

Result<std::pair<int64_t, int64_t>> ReadCounters(PgConnection& conn, Table table,
                                                 std::string_view key) {
  PgParams params;
  params.Int2(static_cast<int16_t>(table)).Bytes(key);
  ASSIGN_OR_RETURN(PgResult result, conn.Exec(kCountersGet, params));
  if (PQntuples(result.get()) != 1 || PQgetlength(result.get(), 0, 0) != 8 ||
      PQgetlength(result.get(), 0, 1) != 8) {
    return Status::Internal("unexpected counters result");
  }
  return std::make_pair(DecodeInt8(PQgetvalue(result.get(), 0, 0)),
                        DecodeInt8(PQgetvalue(result.get(), 0, 1)));
}

}  // namespace papr::storage::pg
