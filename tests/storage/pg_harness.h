#pragma once

#include <memory>
#include <string>

#include "common/result.h"

struct pg_conn;

namespace papr::storage::testing {

//! One superuser connection for a test's own SQL (advisory locks, pg_terminate_backend,
//! triggers) that must outlive a statement. Not thread-safe.
class PgSession {
 public:
  static Result<std::unique_ptr<PgSession>> Connect(const std::string& url);
  ~PgSession();
  // Runs `sql`; returns the first column of the first row ("" if none).
  Result<std::string> Query(const std::string& sql);

 private:
  explicit PgSession(pg_conn* conn) : conn_(conn) {}
  pg_conn* conn_;
};

//! A throwaway PostgreSQL 15 server (Debian's binaries) in a temp dir, for tests and
//! benchmarks: initdb (as user postgres when running as root: initdb refuses root), pg_ctl
//! start on 127.0.0.1 and a free port, stopped by its data dir and removed on destruction.
//! Not thread-safe.
class PgServer {
 public:
  PgServer() = default;
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // Where the binaries are (PAPR_PG_BIN, else /usr/lib/postgresql/15/bin), and whether
  // initdb and pg_ctl are there.
  static std::string BinDir();
  static bool BinariesPresent();

  // initdb on the first call, then start; waits until it accepts connections.
  Status Start();
  // pg_ctl stop -m immediate (a crash: no checkpoint) or -m fast.
  Status Stop(bool immediate);

  int port() const { return port_; }
  // A URL of database `db` as the superuser "papr".
  std::string Url(const std::string& db) const;
  // A new empty database; returns its name.
  Result<std::string> CreateDatabase();
  // Runs `sql` on database `db`; returns the first column of the first row ("" if none).
  Result<std::string> Query(const std::string& db, const std::string& sql) const;

 private:
  Status Run(const std::string& command) const;
  std::string root_;  // temp dir owned by the server's user; holds data/ and the socket
  int port_ = 0;
  bool running_ = false;
  int databases_ = 0;
};

}  // namespace papr::storage::testing
