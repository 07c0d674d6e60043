#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "storage/postgres/pg_options.h"
#include "storage/postgres/pg_params.h"

struct pg_conn;
struct pg_result;

namespace papr::storage::pg {

//! Owns one PGresult.
struct PgResultDeleter {
  void operator()(pg_result* result) const;
};
using PgResult = std::unique_ptr<pg_result, PgResultDeleter>;

// The Status of a failed result: SQLSTATE mapped to a code (unique_violation ->
// AlreadyExists, the fence's PF001 -> OwnershipLost, query_canceled -> DeadlineExceeded,
// connection/shutdown/serialization classes -> Unavailable, disk_full -> IoError).
// `connection_ok` false: the connection died, Unavailable whatever the result says.
Status StatusFromResult(const pg_result* result, bool connection_ok, std::string_view context);

//! One libpq connection with every statement of pg_sql.h prepared. Not thread-safe: the
//! pool hands it to one caller at a time.
class PgConnection {
 public:
  // Connects, with statement_timeout set for the session. Unavailable when the server cannot
  // be reached.
  static Result<std::unique_ptr<PgConnection>> Connect(const PgStoreOptions& options);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // False once the server closed the connection (checked without blocking) or it is inside
  // a transaction it should not be in.
  bool Healthy();
  bool connection_ok() const;
  // Prepares every statement of pg_sql.h, in one round trip. REQUIRES: the schema exists.
  Status Prepare();
  // Runs a prepared statement, binary results. OK for COMMAND_OK and TUPLES_OK.
  Result<PgResult> Exec(const std::string& statement, const PgParams& params);
  // Runs SQL text (DDL, transaction control) without parameters.
  Status ExecSql(const std::string& sql);
  // The server process id (pg_terminate_backend in tests).
  int BackendPid() const;
  pg_conn* raw() { return conn_; }

 private:
  explicit PgConnection(pg_conn* conn) : conn_(conn) {}
  pg_conn* conn_;
};

}  // namespace papr::storage::pg
