// schema_version: the one row saying which schema the database holds. The server creates the
// schema when the row is absent, migrates an older one and refuses to run on a newer one.
#include "storage/postgres/pg_sql.h"

namespace papr::storage::pg {

const char* const kSchemaVersionDdl =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " id integer PRIMARY KEY CHECK (id = 1),"
    " version integer NOT NULL)";

// Any constant: creators in concurrent transactions take turns.
const char* const kSchemaLockSql = "SELECT pg_advisory_xact_lock(7003561914)";

const char* const kSchemaVersionGetSql = "SELECT version FROM schema_version WHERE id = 1";

std::string SchemaVersionSetSql(int version) {
  return "INSERT INTO schema_version (id, version) VALUES (1, " + std::to_string(version) +
         ") ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version";
}

std::vector<std::vector<std::string>> SchemaMigrations() {
  std::vector<std::string> to2 = NodesDdl();
  to2.push_back("ALTER TABLE " + KvTableName(Table::kHistory) + " SET (toast_tuple_target = 8160)");
  std::vector<std::string> to3 = {"CREATE TABLE IF NOT EXISTS " + KvTableName(Table::kInbox) +
                                  " (k bytea PRIMARY KEY, v bytea NOT NULL)"};
  std::vector<std::string> to4 = {"CREATE TABLE IF NOT EXISTS " + KvTableName(Table::kEndUsers) +
                                  " (k bytea PRIMARY KEY, v bytea NOT NULL)"};
  return {to2, to3, to4};
}

}  // namespace papr::storage::pg
