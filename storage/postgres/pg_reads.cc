#include "storage/postgres/pg_reads.h"

#include <libpq-fe.h>

#include <unordered_map>

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

Result<std::vector<std::optional<std::string>>> ReadRows(PgConnection& conn, Table table,
                                                         const std::vector<std::string>& keys) {
  std::vector<std::optional<std::string>> values(keys.size());
  if (keys.empty()) return values;
  std::unordered_map<std::string_view, std::vector<size_t>> positions;
  std::vector<std::string_view> unique;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto& at = positions[keys[i]];
    if (at.empty()) unique.push_back(keys[i]);
    at.push_back(i);
  }
  PgParams params;
  params.ByteaArray(unique);
  ASSIGN_OR_RETURN(PgResult result, conn.Exec(KvStatementName(KvOp::kMultiGet, table), params));
  for (int row = 0; row < PQntuples(result.get()); ++row) {
    auto it = positions.find(
        std::string_view(PQgetvalue(result.get(), row, 0), PQgetlength(result.get(), row, 0)));
    if (it == positions.end()) return Status::Internal("multi-get answered a key not asked for");
    for (size_t i : it->second) values[i] = Field(result.get(), row, 1);
  }
  return values;
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

Result<std::vector<ShardStatus>> ReadShards(PgConnection& conn) {
  ASSIGN_OR_RETURN(PgResult result, conn.Exec(kShardsAll, PgParams()));
  std::vector<ShardStatus> shards;
  for (int row = 0; row < PQntuples(result.get()); ++row) {
    shards.push_back(
        ShardStatus{static_cast<uint32_t>(DecodeInt8(PQgetvalue(result.get(), row, 0))),
                    DecodeInt8(PQgetvalue(result.get(), row, 1)), Field(result.get(), row, 2),
                    DecodeInt8(PQgetvalue(result.get(), row, 3))});
  }
  return shards;
}

Result<std::vector<NodeStatus>> ReadNodes(PgConnection& conn) {
  ASSIGN_OR_RETURN(PgResult result, conn.Exec(kNodesAll, PgParams()));
  std::vector<NodeStatus> nodes;
  for (int row = 0; row < PQntuples(result.get()); ++row) {
    nodes.push_back(NodeStatus{NodeInfo{Field(result.get(), row, 0), Field(result.get(), row, 1)},
                               DecodeInt8(PQgetvalue(result.get(), row, 2))});
  }
  return nodes;
}

}  // namespace papr::storage::pg
