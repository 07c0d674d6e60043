#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

// Helpers that run the real papr-server binary (PAPR_BIN_DIR/papr-server) for the
// integration tests: a temp directory per test, a RAII server process on port 0, and a
// runner for start-ups that must fail.

namespace papr::integration {

// The key PAPR_API_KEY is set to unless ServerOptions says otherwise (user "default").
inline constexpr const char* kTestApiKey = "it-test-key-0123456789";

using EnvVars = std::vector<std::pair<std::string, std::string>>;

// PAPR_SOURCE_DIR/config/<name>, e.g. ConfigPath("opensource.yaml").
std::string ConfigPath(const std::string& name);
std::string ServerBinary();

bool WriteTextFile(const std::string& path, const std::string& text);
// Whether tests run in the PostgreSQL stage (tools/test_postgres.sh sets
// PAPR_TEST_POSTGRES_URL): servers then use a database of that PostgreSQL.
bool InPostgresStage();
std::string ReadTextFile(const std::string& path);

// `base` (YAML text) with every mapping of `overlay` merged in, key by key (sequences and
// scalars of the overlay replace the base's). Used to tweak the shipped configs.
std::string MergeYaml(const std::string& base, const std::string& overlay);

//! A unique directory under $TMPDIR (or /tmp), removed with its contents on destruction.
//! Not thread-safe.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct ServerOptions {
  // Config passed with --config. Default: the OSS edition's config/opensource.yaml.
  std::string config_file;
  // If not empty: merged over `config_file` (MergeYaml) and written into the temp dir,
  // which is then the config used.
  std::string extra_yaml;
  // PAPR_API_KEY for the child; empty: the variable is unset.
  std::string api_key = kTestApiKey;
  // More environment variables for the child (other PAPR_* variables of the test's own
  // environment are never inherited).
  EnvVars env;
  // How long to wait for the `listening on` line (and readiness).
  int start_timeout_ms = 20000;
  // Start() also waits for /readyz 200 (recovery done: writes are served). False: Start()
  // returns at the listening line, while the server may still recover.
  bool wait_ready = true;
  // The PostgreSQL stage (PAPR_TEST_POSTGRES_URL set): the database of an earlier server to
  // run on (a successor on the same data), instead of a new one. See postgres_database().
  std::string postgres_database;
  // A superuser URL of a PostgreSQL this test runs itself (to stop or break it) instead of
  // the stage's shared one: the server runs on a new database there, whatever the stage.
  std::string postgres_url;
};

//! One papr-server child process on 127.0.0.1:0 with its own temp data dir. The destructor
//! SIGKILLs the process it started (if still running) and removes the temp dir. Not
//! thread-safe; use from the test's thread.
class ServerProcess {
 public:
  explicit ServerProcess(ServerOptions options = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts the server and waits for its first stdout line
  // `listening on http://127.0.0.1:PORT`. On failure the message has the server's stderr.
  ::testing::AssertionResult Start();
  // Stops the server if it runs (SIGTERM), then starts it again on the same data dir.
  ::testing::AssertionResult Restart();
  // SIGKILL and reap. No-op if not running.
  void Kill9();
  // SIGTERM, wait up to `timeout_ms` (then SIGKILL). Returns the exit code, 128+signal if
  // killed by a signal, -1 on timeout, or the last result if not running.
  int Terminate(int timeout_ms = 30000);

  // Sends `signal` to the running server (SIGSTOP and SIGCONT: a node frozen, then thawed).
  void Signal(int signal) const;

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& config_file() const { return config_file_; }
  // The PostgreSQL stage: this server's database; empty on RocksDB.
  const std::string& postgres_database() const { return postgres_database_; }
  const std::string& postgres_url() const { return options_.postgres_url; }
  // Everything the server wrote on stderr (all runs).
  std::string StderrText() const;

 private:
  ServerOptions options_;
  TempDir dir_;
  std::string config_file_;
  std::string postgres_database_;
  std::string data_dir_;
  std::string stderr_path_;
  pid_t pid_ = -1;
  int port_ = 0;
  int last_exit_ = -1;
};

// A server on `previous`'s data (its data dir, through a symlink, or its PostgreSQL database)
// with other options: ServerProcess fixes env and dir at construction.
std::unique_ptr<ServerProcess> SuccessorOf(const ServerProcess& previous, ServerOptions options);

struct StartupResult {
  int exit_code = -1;  // 128+signal if killed; -1 if it had to be killed after the timeout
  bool started = false;  // it printed the `listening on` line (it was then SIGKILLed)
  std::string stdout_text;
  std::string stderr_text;
};

// Runs papr-server with `args` (plus `--data-dir` in a temp dir and `--listen
// 127.0.0.1:0`) and waits for it to exit. For start-ups that are expected to fail.
StartupResult RunServerExpectingFailure(const std::vector<std::string>& args,
                                        const std::string& api_key = kTestApiKey,
                                        const EnvVars& env = {}, int timeout_ms = 20000);

}  // namespace papr::integration
