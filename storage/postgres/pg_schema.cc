#include "storage/postgres/pg_schema.h"

#include <libpq-fe.h>

#include <string>
#include <vector>

#include "storage/postgres/pg_sql.h"

namespace papr::storage::pg {
namespace {

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
    return Status::Ok();  // == kSchemaVersion (older versions would be migrated here)
  }
  std::vector<std::string> ddl = KvTablesDdl();
  for (auto* more : {&CountersDdl, &ShardsDdl}) {
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
