#include "tests/integration/server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <yaml-cpp/yaml.h>

#include "net/http_client.h"
#include "tests/storage/pg_harness.h"

extern char** environ;

namespace papr::integration {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kListeningPrefix = "listening on http://127.0.0.1:";

int64_t MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max<int64_t>(0, left.count());
}

// Exit code, or 128+signal for a killed process.
int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Reaps `pid` within the deadline. Returns false (pid not reaped) on timeout.
bool WaitForExit(pid_t pid, Clock::time_point deadline, int* exit_code) {
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      *exit_code = DecodeWaitStatus(status);
      return true;
    }
    if (r < 0 && errno != EINTR) {
      *exit_code = -1;
      return true;  // not our child any more: nothing to wait for
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void KillAndReap(pid_t pid, int* exit_code) {
  kill(pid, SIGKILL);
  WaitForExit(pid, Clock::now() + std::chrono::seconds(30), exit_code);
}

struct Spawned {
  pid_t pid = -1;
  int stdout_fd = -1;
  std::string error;
};

// fork/exec of `argv` with stdout on a pipe and stderr appended to `stderr_path`. The child
// gets the parent's environment minus every PAPR_* variable, plus `env`. Everything the
// child needs is allocated before fork (the test process may have threads).
Spawned Spawn(const std::vector<std::string>& argv, const EnvVars& env,
              const std::string& stderr_path) {
  Spawned out;
  std::vector<std::string> env_strings;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::strncmp(*e, "PAPR_", 5) != 0) env_strings.emplace_back(*e);
  }
  for (const auto& [name, value] : env) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);

  int err_fd = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (err_fd < 0) {
    out.error = "cannot open " + stderr_path + ": " + std::strerror(errno);
    return out;
  }
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    out.error = std::string("pipe2: ") + std::strerror(errno);
    close(err_fd);
    return out;
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    // Child: only async-signal-safe calls from here on.
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test process
    if (getppid() != parent) _exit(127);
    dup2(pipe_fds[1], STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    execve(args[0], args.data(), envp.data());
    const char msg[] = "integration test: execve of papr-server failed\n";
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)ignored;
    _exit(127);
  }
  close(pipe_fds[1]);
  close(err_fd);
  if (pid < 0) {
    out.error = std::string("fork: ") + std::strerror(errno);
    close(pipe_fds[0]);
    return out;
  }
  out.pid = pid;
  out.stdout_fd = pipe_fds[0];
  return out;
}

// Reads `fd` until its first line is complete, EOF, or the deadline. Returns the bytes read.
// *line_complete tells whether a '\n' was seen.
std::string ReadFirstLine(int fd, Clock::time_point deadline, bool* line_complete,
                          bool* eof) {
  std::string data;
  *line_complete = false;
  *eof = false;
  while (data.find('\n') == std::string::npos) {
    int64_t left = MillisLeft(deadline);
    if (left == 0) return data;
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 100)));
    if (r < 0 && errno != EINTR) return data;
    if (r <= 0) continue;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *eof = true;
      return data;
    }
    data.append(buf, static_cast<size_t>(n));
  }
  *line_complete = true;
  return data;
}

// The port of an exact `listening on http://127.0.0.1:PORT` line, or 0.
int ParseListeningLine(const std::string& line) {
  if (line.substr(0, kListeningPrefix.size()) != kListeningPrefix) return 0;
  std::string digits = line.substr(kListeningPrefix.size());
  if (digits.empty() || digits.size() > 5) return 0;
  int port = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return 0;
    port = port * 10 + (c - '0');
  }
  return port > 0 && port < 65536 ? port : 0;
}

std::vector<std::string> ServerArgs(const std::string& config_file, const std::string& data_dir) {
  return {ServerBinary(), "--config", config_file, "--data-dir", data_dir, "--listen",
          "127.0.0.1:0"};
}

EnvVars ChildEnv(const std::string& api_key, const EnvVars& extra) {
  EnvVars env;
  if (!api_key.empty()) env.emplace_back("PAPR_API_KEY", api_key);
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

// Recursively merges mapping `overlay` into `base` (in place); other nodes replace.
void MergeInto(YAML::Node base, const YAML::Node& overlay) {
  for (const auto& entry : overlay) {
    const std::string key = entry.first.as<std::string>();
    YAML::Node existing = base[key];
    if (existing.IsMap() && entry.second.IsMap()) {
      MergeInto(existing, entry.second);
    } else {
      base[key] = YAML::Clone(entry.second);
    }
  }
}

}  // namespace

// PAPR_TEST_SERVER_BIN (or PAPR_SERVER_BIN, which bench/load documents) runs the tests or the
// benchmark against another binary (e.g. an older build, to see a regression test fail before
// its fix, or to measure two builds in one sitting).
std::string ServerBinary() {
  for (const char* name : {"PAPR_TEST_SERVER_BIN", "PAPR_SERVER_BIN"}) {
    const char* other = std::getenv(name);
    if (other != nullptr && *other != '\0') return other;
  }
  return std::string(PAPR_BIN_DIR) + "/papr-server";
}

std::string ConfigPath(const std::string& name) {
  return std::string(PAPR_SOURCE_DIR) + "/config/" + name;
}

bool WriteTextFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  return static_cast<bool>(out);
}

std::string ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string MergeYaml(const std::string& base, const std::string& overlay) {
  YAML::Node root = YAML::Load(base);
  YAML::Node extra = YAML::Load(overlay);
  if (extra.IsMap()) MergeInto(root, extra);
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                        "/papr-it-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp(" << pattern << "): " << std::strerror(errno);
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  // PAPR_TEST_KEEP_DIRS=1 keeps data dirs and server logs for a post-mortem.
  const char* keep = std::getenv("PAPR_TEST_KEEP_DIRS");
  if (keep != nullptr && std::string_view(keep) == "1") return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

bool InPostgresStage() {
  const char* url = std::getenv("PAPR_TEST_POSTGRES_URL");
  return url != nullptr && *url != '\0';
}

namespace {

// Polls GET /readyz until 200 or the deadline.
bool WaitReady(int port, Clock::time_point deadline) {
  net::HttpClientRequest request;
  request.method = "GET";
  request.url = "http://127.0.0.1:" + std::to_string(port) + "/readyz";
  request.timeout_ms = 2000;
  while (Clock::now() < deadline) {
    auto response = net::HttpCall(request);
    if (response.ok() && response->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// With `own_url`, or else PAPR_TEST_POSTGRES_URL (a superuser URL of a throwaway PostgreSQL,
// set by tools/test_postgres.sh): a new database for this server and the config that selects
// it. Empty otherwise (the embedded RocksDB default).
// `*name` non-empty: that database (a successor's), else a new one, named in *name.
std::string TestPostgresYaml(const std::string& own_url, std::string* name) {
  const char* url = own_url.empty() ? std::getenv("PAPR_TEST_POSTGRES_URL") : own_url.c_str();
  if (url == nullptr || *url == '\0') return "";
  static std::atomic<int> databases{0};
  if (name->empty()) {
    *name = "papr_it_" + std::to_string(::getpid()) + "_" + std::to_string(databases++);
    auto session = storage::testing::PgSession::Connect(url);
    if (!session.ok()) {
      ADD_FAILURE() << session.status().ToString();
      return "";
    }
    auto created = (*session)->Query("CREATE DATABASE " + *name);
    if (!created.ok()) ADD_FAILURE() << created.status().ToString();
  }
  std::string base(url);
  return "storage:\n  backend: postgres\n  postgres:\n    url: \"" +
         base.substr(0, base.rfind('/') + 1) + *name + "\"\n";
}

}  // namespace

ServerProcess::ServerProcess(ServerOptions options) : options_(std::move(options)) {
  if (options_.config_file.empty()) options_.config_file = ConfigPath("opensource.yaml");
  config_file_ = options_.config_file;
  postgres_database_ = options_.postgres_database;
  // The PostgreSQL stage: a database per server (or its predecessor's).
  std::string backend_yaml = TestPostgresYaml(options_.postgres_url, &postgres_database_);
  if (!options_.extra_yaml.empty() || !backend_yaml.empty()) {
    config_file_ = dir_.File("config.yaml");
    std::string merged;
    try {
      merged = MergeYaml(ReadTextFile(options_.config_file), options_.extra_yaml);
      if (!backend_yaml.empty()) merged = MergeYaml(merged, backend_yaml);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "bad extra_yaml: " << e.what();
    }
    if (!WriteTextFile(config_file_, merged)) ADD_FAILURE() << "cannot write " << config_file_;
  }
  data_dir_ = dir_.File("data");
  stderr_path_ = dir_.File("stderr.log");
}

ServerProcess::~ServerProcess() { Kill9(); }

std::unique_ptr<ServerProcess> SuccessorOf(const ServerProcess& previous, ServerOptions options) {
  options.postgres_database = previous.postgres_database();
  if (options.postgres_url.empty()) options.postgres_url = previous.postgres_url();
  auto next = std::make_unique<ServerProcess>(std::move(options));
  std::error_code ec;
  std::filesystem::remove_all(next->data_dir(), ec);
  std::filesystem::create_directory_symlink(previous.data_dir(), next->data_dir(), ec);
  EXPECT_FALSE(ec) << "symlink " << next->data_dir() << " -> " << previous.data_dir() << ": "
                   << ec.message();
  return next;
}

::testing::AssertionResult ServerProcess::Start() {
  if (running()) return ::testing::AssertionFailure() << "server already running";
  Spawned child = Spawn(ServerArgs(config_file_, data_dir_),
                        ChildEnv(options_.api_key, options_.env), stderr_path_);
  if (child.pid < 0) return ::testing::AssertionFailure() << child.error;
  pid_ = child.pid;
  auto deadline = Clock::now() + std::chrono::milliseconds(options_.start_timeout_ms);
  bool complete = false, eof = false;
  std::string out = ReadFirstLine(child.stdout_fd, deadline, &complete, &eof);
  // The server ignores SIGPIPE: later stdout writes just fail once this end is closed.
  close(child.stdout_fd);
  std::string line = out.substr(0, out.find('\n'));
  port_ = complete ? ParseListeningLine(line) : 0;
  if (port_ > 0 && (!options_.wait_ready || WaitReady(port_, deadline))) {
    return ::testing::AssertionSuccess();
  }
  if (port_ > 0) {
    Kill9();
    return ::testing::AssertionFailure() << "papr-server listened but never became ready\n"
                                         << StderrText();
  }
  std::string why = complete ? "first stdout line is not `listening on http://127.0.0.1:PORT`"
                    : eof    ? "stdout closed before the listening line"
                             : "no listening line within the start timeout";
  Kill9();
  return ::testing::AssertionFailure()
         << "papr-server did not start: " << why << "; exit " << last_exit_ << "\nstdout: "
         << out << "\nstderr:\n"
         << StderrText();
}

::testing::AssertionResult ServerProcess::Restart() {
  if (running()) {
    int code = Terminate();
    if (code != 0) {
      return ::testing::AssertionFailure() << "SIGTERM before restart: exit code " << code;
    }
  }
  return Start();
}

void ServerProcess::Kill9() {
  if (!running()) return;
  KillAndReap(pid_, &last_exit_);
  pid_ = -1;
  port_ = 0;
}

void ServerProcess::Signal(int signal) const {
  if (running()) kill(pid_, signal);
}

int ServerProcess::Terminate(int timeout_ms) {
  if (!running()) return last_exit_;
  kill(pid_, SIGTERM);
  if (!WaitForExit(pid_, Clock::now() + std::chrono::milliseconds(timeout_ms), &last_exit_)) {
    KillAndReap(pid_, &last_exit_);
    last_exit_ = -1;
  }
  pid_ = -1;
  port_ = 0;
  return last_exit_;
}

std::string ServerProcess::StderrText() const { return ReadTextFile(stderr_path_); }

StartupResult RunServerExpectingFailure(const std::vector<std::string>& args,
                                        const std::string& api_key, const EnvVars& env,
                                        int timeout_ms) {
  StartupResult result;
  TempDir dir;
  std::vector<std::string> argv = {ServerBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  for (const char* extra : {"--data-dir", "DATA", "--listen", "127.0.0.1:0"}) argv.push_back(extra);
  argv[argv.size() - 3] = dir.File("data");
  std::string stderr_path = dir.File("stderr.log");
  Spawned child = Spawn(argv, ChildEnv(api_key, env), stderr_path);
  if (child.pid < 0) {
    result.stderr_text = child.error;
    return result;
  }
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  bool complete = false, eof = false;
  result.stdout_text = ReadFirstLine(child.stdout_fd, deadline, &complete, &eof);
  close(child.stdout_fd);
  result.started = complete && ParseListeningLine(result.stdout_text.substr(
                                   0, result.stdout_text.find('\n'))) > 0;
  if (result.started || !WaitForExit(child.pid, deadline, &result.exit_code)) {
    KillAndReap(child.pid, &result.exit_code);
    if (!result.started) result.exit_code = -1;
  }
  result.stderr_text = ReadTextFile(stderr_path);
  return result;
}

}  // namespace papr::integration
