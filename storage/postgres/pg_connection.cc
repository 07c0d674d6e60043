#include "storage/postgres/pg_connection.h"

#include <libpq-fe.h>
#include <poll.h>

#include <array>
#include <vector>

#include "common/log.h"
#include "storage/postgres/pg_sql.h"

namespace papr::storage::pg {
namespace {

struct SqlStateCode {
  const char* prefix;  // a SQLSTATE or its class (2 characters)
  StatusCode code;
};

// First match wins: exact states before their classes.
constexpr std::array<SqlStateCode, 13> kSqlStateCodes = {{
    {"23505", StatusCode::kAlreadyExists},      // unique_violation (Insert)
    {"PF001", StatusCode::kOwnershipLost},      // papr_check_fence
    {"57014", StatusCode::kDeadlineExceeded},   // query_canceled (statement_timeout)
    {"53100", StatusCode::kIoError},            // disk_full
    {"25006", StatusCode::kUnavailable},        // read_only_sql_transaction (a standby)
    {"40", StatusCode::kUnavailable},           // serialization failure, deadlock
    {"53", StatusCode::kUnavailable},           // out of memory, too many connections
    {"55P03", StatusCode::kUnavailable},        // lock_not_available
    {"57P", StatusCode::kUnavailable},          // admin/crash shutdown, cannot connect now
    {"08", StatusCode::kUnavailable},           // connection exceptions
    {"58", StatusCode::kIoError},               // system errors (I/O)
    {"XX001", StatusCode::kCorruption},         // data_corrupted
    {"XX002", StatusCode::kCorruption},         // index_corrupted
}};

StatusCode CodeOfSqlState(std::string_view state) {
  for (const SqlStateCode& entry : kSqlStateCodes) {
    if (state.starts_with(entry.prefix)) return entry.code;
  }
  return StatusCode::kInternal;
}

std::string TrimmedError(const char* message) {
  std::string text = message == nullptr ? "" : message;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// Server notices go to our log instead of stderr: warnings (a commit's wait for replication
// cancelled, a shutdown) at warn, the rest (CREATE ... IF NOT EXISTS skipping) at debug.
void ForwardNotice(void* /*arg*/, const char* message) {
  std::string text = TrimmedError(message);
  bool warning = text.starts_with("WARNING") || text.starts_with("FATAL");
  log::Write(warning ? log::Level::kWarn : log::Level::kDebug, "postgres notice",
             {{"message", text}});
}

}  // namespace

void PgResultDeleter::operator()(pg_result* result) const { PQclear(result); }

Status StatusFromResult(const pg_result* result, bool connection_ok, std::string_view context) {
  std::string message = std::string(context) + ": ";
  message += TrimmedError(result == nullptr ? "no result" : PQresultErrorMessage(result));
  if (!connection_ok) return Status::Unavailable("postgres connection lost: " + message);
  const char* state = result == nullptr ? nullptr : PQresultErrorField(result, PG_DIAG_SQLSTATE);
  if (state == nullptr) return Status::Unavailable(std::move(message));
  return Status(CodeOfSqlState(state), std::move(message) + " (SQLSTATE " + state + ")");
}

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const PgStoreOptions& options) {
  std::string timeout = std::to_string(options.connect_timeout_seconds);
  std::string session = "-c statement_timeout=" + std::to_string(options.statement_timeout_ms);
  // expand_dbname: the first "dbname" may be a URL or key=value string; later keys override.
  const char* keys[] = {"dbname",   "connect_timeout", "options", "application_name",
                        "keepalives_idle", nullptr};
  const char* values[] = {options.url.c_str(), timeout.c_str(), session.c_str(),
                          options.application_name.c_str(), "10", nullptr};
  pg_conn* raw = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (raw == nullptr) return Status::Unavailable("postgres: out of memory creating a connection");
  std::unique_ptr<PgConnection> conn(new PgConnection(raw));
  PQsetNoticeProcessor(raw, ForwardNotice, nullptr);
  if (PQstatus(raw) != CONNECTION_OK) {
    return Status::Unavailable("cannot connect to postgres: " +
                               TrimmedError(PQerrorMessage(raw)));
  }
  // Values past ~2 KB (batch inputs, long memories) are compressed: lz4 took a third of
  // pglz's time for W2's input blobs. A server built without lz4 refuses it; pglz stays.
  PQclear(PQexec(raw, "SET default_toast_compression = lz4"));
  return conn;
}

PgConnection::~PgConnection() { PQfinish(conn_); }

// All statements in one round trip (pipeline mode): a new connection is ready quickly.
Status PgConnection::Prepare() {
  std::vector<PreparedSql> all = KvStatements();
  for (auto* more : {&CountersStatements, &ShardsStatements, &NodesStatements}) {
    for (PreparedSql& s : (*more)()) all.push_back(std::move(s));
  }
  if (PQenterPipelineMode(conn_) != 1) return Status::Internal("cannot enter pipeline mode");
  for (const PreparedSql& s : all) {
    if (PQsendPrepare(conn_, s.name.c_str(), s.text.c_str(), 0, nullptr) != 1) break;
  }
  PQpipelineSync(conn_);
  Status first = Status::Ok();
  for (size_t i = 0; i < all.size(); ++i) {
    PgResult result(PQgetResult(conn_));
    if (result == nullptr) break;  // the connection died
    if (PQresultStatus(result.get()) != PGRES_COMMAND_OK && first.ok()) {
      first = StatusFromResult(result.get(), connection_ok(), "preparing " + all[i].name);
    }
    PgResult end(PQgetResult(conn_));  // the NULL after each statement's result
  }
  PgResult sync(PQgetResult(conn_));
  if (!connection_ok()) return Status::Unavailable("postgres connection lost while preparing");
  PQexitPipelineMode(conn_);
  return first;
}

bool PgConnection::connection_ok() const { return PQstatus(conn_) == CONNECTION_OK; }

namespace {

// Whether the idle connection's socket has something to read (a server that shut down or
// terminated the session sends a notice or FATAL, then EOF).
bool Readable(pg_conn* conn) {
  pollfd fd{PQsocket(conn), POLLIN | POLLRDHUP, 0};
  return ::poll(&fd, 1, 0) == 1;
}

}  // namespace

bool PgConnection::Healthy() {
  if (!connection_ok() || PQtransactionStatus(conn_) != PQTRANS_IDLE ||
      PQpipelineStatus(conn_) != PQ_PIPELINE_OFF) {
    return false;
  }
  // Reads what arrived while idle, so that a closed connection is found here rather than by a
  // write sent into it (whose outcome would then be unknown). An idle session gets nothing
  // else worth keeping it for: reconnect when it keeps being readable.
  for (int round = 0; round < 3; ++round) {
    if (!Readable(conn_)) return true;
    if (PQconsumeInput(conn_) != 1 || !connection_ok()) return false;
  }
  return !Readable(conn_);
}

Result<PgResult> PgConnection::Exec(const std::string& statement, const PgParams& params) {
  PgResult result(PQexecPrepared(conn_, statement.c_str(), params.count(), params.values(),
                                 params.lengths(), params.formats(), /*resultFormat=*/1));
  ExecStatusType status = result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  return StatusFromResult(result.get(), connection_ok(), statement);
}

Status PgConnection::ExecSql(const std::string& sql) {
  PgResult result(PQexec(conn_, sql.c_str()));
  ExecStatusType status = result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Status::Ok();
  return StatusFromResult(result.get(), connection_ok(), sql.substr(0, 60));
}

int PgConnection::BackendPid() const { return PQbackendPID(conn_); }

}  // namespace papr::storage::pg
