#include "tests/storage/pg_harness.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

namespace papr::storage::testing {
namespace {

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// As root, commands run as "postgres" (initdb and pg_ctl refuse root).
std::string AsServerUser() { return ::geteuid() == 0 ? "runuser -u postgres -- " : ""; }

}  // namespace

std::string PgServer::BinDir() {
  const char* env = std::getenv("PAPR_PG_BIN");
  return env != nullptr && *env != '\0' ? env : "/usr/lib/postgresql/15/bin";
}

bool PgServer::BinariesPresent() {
  return ::access((BinDir() + "/initdb").c_str(), X_OK) == 0 &&
         ::access((BinDir() + "/pg_ctl").c_str(), X_OK) == 0;
}

PgServer::~PgServer() {
  if (running_) Stop(/*immediate=*/false).IgnoreError();
  if (!root_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
}

Status PgServer::Run(const std::string& command) const {
  std::string line = AsServerUser() + command + " >>" + root_ + "/harness.log 2>&1";
  if (std::system(line.c_str()) != 0) {
    return Status::Internal("command failed (see " + root_ + "/harness.log): " + command);
  }
  return Status::Ok();
}

Status PgServer::Start() {
  if (root_.empty()) {
    char tmpl[] = "/tmp/papr_pg_XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return Status::IoError("mkdtemp failed");
    root_ = tmpl;
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwnam("postgres");
      if (pw == nullptr) return Status::FailedPrecondition("no user 'postgres' to run initdb as");
      if (::chown(root_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        return Status::IoError("cannot chown " + root_);
      }
    }
    port_ = FreeLoopbackPort();
    RETURN_IF_ERROR(Run(BinDir() + "/initdb -D " + root_ + "/data -A trust -U papr -N -E UTF8" +
                        " --locale=C"));
  }
  std::string options = "-c listen_addresses=127.0.0.1 -c port=" + std::to_string(port_) +
                        " -c unix_socket_directories=" + root_ + " -c max_connections=60" +
                        " -c shared_buffers=32MB";
  if (track_statements_) options += " -c shared_preload_libraries=pg_stat_statements";
  RETURN_IF_ERROR(Run(BinDir() + "/pg_ctl -D " + root_ + "/data -w -t 60 -l " + root_ +
                      "/server.log -o '" + options + "' start"));
  running_ = true;
  return Status::Ok();
}

Status PgServer::Stop(bool immediate) {
  running_ = false;
  return Run(BinDir() + "/pg_ctl -D " + root_ + "/data -w -m " +
             (immediate ? "immediate" : "fast") + " stop");
}

std::string PgServer::Url(const std::string& db) const {
  return "postgresql://papr@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

Result<std::string> PgServer::CreateDatabase() {
  std::string name = "papr_test_" + std::to_string(::getpid()) + "_" + std::to_string(databases_++);
  auto created = Query("postgres", "CREATE DATABASE " + name);
  if (!created.ok()) return created.status();
  return name;
}

Result<std::unique_ptr<PgSession>> PgSession::Connect(const std::string& url) {
  PGconn* conn = PQconnectdb(url.c_str());
  std::unique_ptr<PgSession> session(new PgSession(conn));
  if (PQstatus(conn) != CONNECTION_OK) {
    return Status::Unavailable("harness cannot connect: " + std::string(PQerrorMessage(conn)));
  }
  return session;
}

PgSession::~PgSession() { PQfinish(conn_); }

Result<std::string> PgSession::Query(const std::string& sql) {
  PGresult* result = PQexec(conn_, sql.c_str());
  ExecStatusType status = PQresultStatus(result);
  std::string value;
  Status outcome = Status::Ok();
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    outcome = Status::Internal("harness query failed: " + std::string(PQerrorMessage(conn_)));
  } else if (status == PGRES_TUPLES_OK && PQntuples(result) > 0) {
    value = PQgetvalue(result, 0, 0);
  }
  PQclear(result);
  if (!outcome.ok()) return outcome;
  return value;
}

Result<std::string> PgServer::Query(const std::string& db, const std::string& sql) const {
  ASSIGN_OR_RETURN(std::unique_ptr<PgSession> session, PgSession::Connect(Url(db)));
  return session->Query(sql);
}

namespace {
constexpr const char* kGateLock = "4242";
constexpr const char* kTurnLock = "4243";
}  // namespace

std::string WaitForBackendWaitingOn(PgSession& admin, const std::string& wait_events) {
  // Generous: on a loaded 2-core box the batch's first commit may come seconds after its submit.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    auto pid = admin.Query(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND "
        "application_name = 'papr-server' AND wait_event IN (" + wait_events + ") LIMIT 1");
    if (pid.ok() && !pid->empty()) return *pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return "";
}

std::string DescribeSessions(PgSession& admin) {
  auto lines = admin.Query(
      "SELECT string_agg(concat_ws(' | ', pid, state, wait_event_type, wait_event, "
      "left(query, 120)), E'\\n') FROM pg_stat_activity WHERE datname = current_database() AND "
      "application_name = 'papr-server'");
  return lines.ok() ? *lines : lines.status().ToString();
}

Status CloseCommitGate(PgSession& admin, GatedCommits gated) {
  std::string wait = std::string("PERFORM pg_advisory_xact_lock_shared(") + kGateLock + ");";
  // The first to take the turn lock waits at the gate, holding the turn until it ends.
  if (gated == GatedCommits::kOneAtATime) {
    wait = std::string("IF pg_try_advisory_xact_lock(") + kTurnLock + ") THEN " + wait + " END IF;";
  }
  for (const std::string& sql :
       {"CREATE FUNCTION test_commit_gate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN " +
            wait + " RETURN NULL; END $$",
        std::string("CREATE CONSTRAINT TRIGGER commit_gate AFTER INSERT OR UPDATE ON memories "
                    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "
                    "test_commit_gate()"),
        std::string("SELECT pg_advisory_lock(") + kGateLock + ")"}) {
    RETURN_IF_ERROR(admin.Query(sql).status());
  }
  return Status::Ok();
}

Status OpenCommitGate(PgSession& admin) {
  return admin.Query(std::string("SELECT pg_advisory_unlock(") + kGateLock + ")").status();
}

Status SetSynchronousStandby(const PgServer& server, PgSession& admin, const std::string& name) {
  RETURN_IF_ERROR(admin
                      .Query(name.empty() ? "ALTER SYSTEM RESET synchronous_standby_names"
                                          : "ALTER SYSTEM SET synchronous_standby_names = '" +
                                                name + "'")
                      .status());
  RETURN_IF_ERROR(admin.Query("SELECT pg_reload_conf()").status());
  for (int i = 0; i < 1000; ++i) {
    auto seen = server.Query("postgres", "SHOW synchronous_standby_names");
    if (seen.ok() && *seen == name) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return Status::DeadlineExceeded("synchronous_standby_names never became '" + name + "'");
}

}  // namespace papr::storage::testing
