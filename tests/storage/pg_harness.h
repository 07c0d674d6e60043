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
  // Before Start: load pg_stat_statements (the load driver's per-statement costs).
  void TrackStatements() { track_statements_ = true; }
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
  bool track_statements_ = false;
  int databases_ = 0;
};

// ---- Faults of the database, for tests that kill a papr-server connection at a chosen point
// of COMMIT. `admin` is a superuser session on the server's database.

// The pid of a papr-server backend of `admin`'s database waiting on one of `wait_events` (an
// SQL list of quoted names, e.g. "'advisory'"); "" if none turned up within 30 s.
std::string WaitForBackendWaitingOn(PgSession& admin, const std::string& wait_events);
// A line per papr-server backend of `admin`'s database: pid, state, wait event, query (for a
// failure message).
std::string DescribeSessions(PgSession& admin);
// Makes commits that wrote `memories` wait in COMMIT (a deferred trigger takes a shared
// advisory lock that `admin` holds) until OpenCommitGate: every such commit, or only one at a
// time (the others pass), so that a server's other writes do not queue behind gated commits
// holding all of its transaction slots.
enum class GatedCommits { kEvery, kOneAtATime };
Status CloseCommitGate(PgSession& admin, GatedCommits gated = GatedCommits::kEvery);
Status OpenCommitGate(PgSession& admin);
// Sets synchronous_standby_names server-wide ("" resets it) and waits until new sessions of
// `server` see it. With a standby that does not exist, every commit writes its commit record
// and then waits (wait event SyncRep): killed there, it is applied but its reply is lost.
Status SetSynchronousStandby(const PgServer& server, PgSession& admin, const std::string& name);

}  // namespace papr::storage::testing
