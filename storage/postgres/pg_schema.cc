#include "storage/postgres/pg_schema.h"

#include <libpq-fe.h>

#include <string>
#include <vector>

#include "storage/postgres/pg_sql.h"

namespace papr::storage::pg {
namespace {

// Brings a database at `version` (<= kSchemaVersion) to kSchemaVersion, in the caller's
// transaction: concurrent openers wait on the schema lock, then find it done.
Status Migrate(PgConnection& conn, int version) {
  if (version == kSchemaVersion) return Status::Ok();
  const std::vector<std::vector<std::string>> migrations = SchemaMigrations();
  for (int v = version; v < kSchemaVersion; ++v) {
    if (v < 1 || static_cast<size_t>(v) > migrations.size()) {
      return Status::FailedPrecondition("no migration of the postgres schema from version " +
                                        std::to_string(v));
    }
    for (const std::string& statement : migrations[v - 1]) RETURN_IF_ERROR(conn.ExecSql(statement));
  }
  return conn.ExecSql(SchemaVersionSetSql(kSchemaVersion));
}

Status CreateAndCheck(PgConnection& conn) {
  RETURN_IF_ERROR(conn.ExecSql(kSchemaLockSql));
  RETURN_IF_ERROR(conn.ExecSql(kSchemaVersionDdl));
  PgResult result(PQexec(conn.raw(), kSchemaVersionGetSql));
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
    return StatusFromResult(result.get(), conn.connection_ok(), "reading schema_version");
  }
  if (PQntuples(result.get()) == 1) {
    int version = std::stoi(PQgetvalue(result.get(), 0, 0));
    if (version > kSchemaVersion) {
      return Status::FailedPrecondition(
          "the postgres database has schema version " + std::to_string(version) +
          ", newer than this build's " + std::to_string(kSchemaVersion) +
          "; run a newer papr-server");
    }
    return Migrate(conn, version);
  }
  std::vector<std::string> ddl = KvTablesDdl();
  for (auto* more : {&CountersDdl, &ShardsDdl, &NodesDdl}) {
    for (std::string& statement : (*more)()) ddl.push_back(std::move(statement));
  }
  for (const std::string& statement : ddl) RETURN_IF_ERROR(conn.ExecSql(statement));
  return conn.ExecSql(SchemaVersionSetSql(kSchemaVersion));
}

}  // namespace

Status EnsureSchema(PgConnection& conn) {
  RETURN_IF_ERROR(conn.ExecSql("BEGIN"));
  Status status = CreateAndCheck(conn);
  if (!status.ok()) {
    if (conn.connection_ok()) conn.ExecSql("ROLLBACK").IgnoreError();
    return status;
  }
  return conn.ExecSql("COMMIT");
}

}  // namespace papr::storage::pg
