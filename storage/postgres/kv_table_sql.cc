// The key/value tables: one per storage::Table, named after it, (k bytea PRIMARY KEY, v bytea).
// bytea compares bytewise (memcmp, then length), the order of RocksDB's default comparator, so
// the keys.h encodings and their prefix scans carry over unchanged.
#include <array>
#include <cstddef>

#include "storage/postgres/pg_sql.h"

namespace papr::storage::pg {
namespace {

constexpr size_t kTableCount = static_cast<size_t>(Table::kCount);

struct KvOpSql {
  KvOp op;
  const char* prefix;  // of the statement name
  const char* text;    // %T: the table name
};

constexpr std::array<KvOpSql, 7> kKvOps = {{
    {KvOp::kGet, "kv_get_", "SELECT v FROM %T WHERE k = $1::bytea"},
    {KvOp::kScan, "kv_scan_",
     "SELECT k, v FROM %T WHERE k >= $1::bytea AND k < $2::bytea ORDER BY k LIMIT $3::int8"},
    {KvOp::kScanToEnd, "kv_scan_end_",
     "SELECT k, v FROM %T WHERE k >= $1::bytea ORDER BY k LIMIT $2::int8"},
    {KvOp::kInsert, "kv_insert_",
     "INSERT INTO %T (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[])"},
    {KvOp::kUpsert, "kv_upsert_",
     "INSERT INTO %T (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[])"
     " ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"},
    {KvOp::kDelete, "kv_delete_", "DELETE FROM %T WHERE k = ANY($1::bytea[])"},
    {KvOp::kMultiGet, "kv_multi_get_", "SELECT k, v FROM %T WHERE k = ANY($1::bytea[])"},
}};

std::string WithTable(const char* text, const std::string& table) {
  std::string out = text;
  for (size_t at = out.find("%T"); at != std::string::npos; at = out.find("%T", at)) {
    out.replace(at, 2, table);
  }
  return out;
}

}  // namespace

// kMeta is RocksDB's "default" column family: a reserved word in SQL, so "meta" here.
std::string KvTableName(Table table) {
  return table == Table::kMeta ? "meta" : TableName(table);
}

std::vector<std::string> KvTablesDdl() {
  std::vector<std::string> ddl;
  for (size_t i = 0; i < kTableCount; ++i) {
    auto table = static_cast<Table>(i);
    std::string create = "CREATE TABLE IF NOT EXISTS " + KvTableName(table) +
                         " (k bytea PRIMARY KEY, v bytea NOT NULL)";
    // A history row is a commit's page of events, often past the 2 KB at which PostgreSQL
    // compresses and moves values out of line; it is written once and read at recovery, so
    // rows up to a heap page stay inline and uncompressed (compressing them cost more than the
    // rest of the insert).
    if (table == Table::kHistory) create += " WITH (toast_tuple_target = 8160)";
    ddl.push_back(std::move(create));
  }
  return ddl;
}

std::string KvStatementName(KvOp op, Table table) {
  return std::string(kKvOps[static_cast<size_t>(op)].prefix) +
         std::to_string(static_cast<int>(table));
}

std::vector<PreparedSql> KvStatements() {
  std::vector<PreparedSql> statements;
  for (size_t i = 0; i < kTableCount; ++i) {
    auto table = static_cast<Table>(i);
    for (const KvOpSql& op : kKvOps) {
      statements.push_back({KvStatementName(op.op, table), WithTable(op.text, KvTableName(table))});
    }
  }
  return statements;
}

}  // namespace papr::storage::pg
