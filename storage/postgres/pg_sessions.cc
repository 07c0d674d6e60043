#include "storage/postgres/pg_sessions.h"

#include <libpq-fe.h>

#include <charconv>
#include <memory>

#include "storage/postgres/pg_connection.h"

namespace papr::storage {
namespace {

// application_name is visible in pg_stat_activity to every role, not only to superusers.
constexpr const char* kUseSql =
    "SELECT current_database(), to_regclass('schema_version') IS NOT NULL, "
    "(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND application_name = $1 AND pid <> pg_backend_pid())";

}  // namespace

Result<PgDatabaseUse> InspectDatabaseUse(const PgStoreOptions& options,
                                         std::string_view application_name) {
  ASSIGN_OR_RETURN(std::unique_ptr<pg::PgConnection> conn, pg::PgConnection::Connect(options));
  std::string name(application_name);
  const char* params[] = {name.c_str()};
  pg::PgResult result(PQexecParams(conn->raw(), kUseSql, 1, nullptr, params, nullptr, nullptr, 0));
  if (result == nullptr || PQresultStatus(result.get()) != PGRES_TUPLES_OK ||
      PQntuples(result.get()) != 1) {
    return pg::StatusFromResult(result.get(), conn->connection_ok(), "pg_stat_activity");
  }
  PgDatabaseUse use;
  use.database = PQgetvalue(result.get(), 0, 0);
  use.has_schema = std::string_view(PQgetvalue(result.get(), 0, 1)) == "t";
  std::string_view count = PQgetvalue(result.get(), 0, 2);
  std::from_chars(count.data(), count.data() + count.size(), use.sessions);
  return use;
}

}  // namespace papr::storage
