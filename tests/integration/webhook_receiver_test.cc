// The webhook-receiver binary (tools/webhook_receiver) as a user runs it: its first stdout
// line, signature and timestamp checks, dedupe into the --out JSON lines, --fail-first /
// --hang-first, a real batch webhook from papr-server, and exit 0 on SIGTERM/SIGINT.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "net/http_client.h"
#include "tests/integration/api_client.h"
#include "tests/integration/server_process.h"
#include "workflows/webhook_sender.h"

extern char** environ;

namespace papr::integration {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

std::string ReceiverBinary() { return std::string(PAPR_BIN_DIR) + "/webhook-receiver"; }

//! One webhook-receiver child process. The destructor SIGKILLs it if still running.
class ReceiverProcess {
 public:
  explicit ReceiverProcess(std::vector<std::string> args) : args_(std::move(args)) {}
  ~ReceiverProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    if (stdout_fd_ >= 0) close(stdout_fd_);
  }

  // Starts it and reads `listening on http://127.0.0.1:PORT`.
  ::testing::AssertionResult Start() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return ::testing::AssertionFailure() << "pipe";
    std::vector<std::string> argv_strings = {ReceiverBinary()};
    argv_strings.insert(argv_strings.end(), args_.begin(), args_.end());
    std::vector<char*> argv;
    for (auto& a : argv_strings) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path().c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    stdout_fd_ = fds[0];
    if (rc != 0) {
      pid_ = -1;
      return ::testing::AssertionFailure() << "cannot run " << argv[0] << ": " << rc;
    }
    std::string line;
    auto deadline = SteadyClock::now() + std::chrono::seconds(10);
    while (line.find('\n') == std::string::npos && SteadyClock::now() < deadline) {
      pollfd p{stdout_fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[256];
      ssize_t n = read(stdout_fd_, buf, sizeof(buf));
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    const std::string prefix = "listening on http://127.0.0.1:";
    if (line.rfind(prefix, 0) != 0) {
      return ::testing::AssertionFailure()
             << "first stdout line: '" << line << "'; stderr: " << ReadTextFile(stderr_path());
    }
    port_ = std::stoi(line.substr(prefix.size()));
    return ::testing::AssertionSuccess();
  }

  // Sends `sig` and waits up to 10 s; returns the exit code (128+signal if killed, -1 if it
  // had to be killed after the timeout).
  int Signal(int sig) {
    if (pid_ <= 0) return -1;
    kill(pid_, sig);
    auto deadline = SteadyClock::now() + std::chrono::seconds(10);
    while (SteadyClock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/webhook"; }
  std::string stderr_path() const { return dir_.File("receiver.stderr"); }
  std::string Stderr() const { return ReadTextFile(stderr_path()); }

 private:
  std::vector<std::string> args_;
  TempDir dir_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
};

// Runs the binary with `args` and returns its exit code (it must exit by itself within 10 s).
int RunToExit(const std::vector<std::string>& args) {
  std::vector<std::string> argv_strings = {ReceiverBinary()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -2;
  auto deadline = SteadyClock::now() + std::chrono::seconds(10);
  while (SteadyClock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

// POSTs `body` as message `id` at `ts`, signed with `secret` (unsigned if empty).
int PostSigned(const std::string& url, const std::string& id, int64_t ts, const std::string& body,
               const std::string& secret, const std::string& signature_override = "",
               int timeout_ms = 5000) {
  net::HttpClientRequest req;
  req.url = url;
  req.body = body;
  req.timeout_ms = timeout_ms;
  req.headers = {{"content-type", "application/json"},
                 {"webhook-id", id},
                 {"webhook-timestamp", std::to_string(ts)}};
  std::string signature = signature_override;
  if (signature.empty() && !secret.empty()) {
    auto s = workflows::WebhookSender::Sign(secret, id, ts, body);
    EXPECT_TRUE(s.ok());
    if (s.ok()) signature = *s;
  }
  if (!signature.empty()) req.headers.emplace_back("webhook-signature", signature);
  auto resp = net::HttpCall(req);
  if (!resp.ok()) return 0;
  return resp->status;
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(WebhookReceiverIntegrationTest, BinaryVerifiesDedupesAndAppends) {
  TempDir dir;
  const std::string out = dir.File("deliveries.jsonl");
  ReceiverProcess receiver({"--secret", kSecret, "--out", out});
  ASSERT_TRUE(receiver.Start());
  const std::string body = "{\"type\":\"batch.completed\",\"data\":{\"batch_id\":\"b-1\"}}";
  const int64_t ts = Now();
  EXPECT_EQ(PostSigned(receiver.Url(), "msg_one", ts, body, kSecret), 200);
  // A retry of the same message (new timestamp and signature): 200, appended once.
  EXPECT_EQ(PostSigned(receiver.Url(), "msg_one", ts + 1, body, kSecret), 200);
  EXPECT_EQ(PostSigned(receiver.Url(), "msg_two", ts, body, "whsec_d3Jvbmcga2V5"), 401);
  EXPECT_EQ(PostSigned(receiver.Url(), "msg_two", ts, body, ""), 401);
  EXPECT_EQ(PostSigned(receiver.Url(), "msg_two", ts, body, "", "v1,AAAA v1a,BBBB"), 401);
  EXPECT_EQ(PostSigned(receiver.Url(), "msg_two", ts - 600, body, kSecret), 401);
  EXPECT_EQ(PostSigned(receiver.Url(), "msg_two", ts + 600, body, kSecret), 401);
  EXPECT_EQ(PostSigned(receiver.Url(), "msg_two", ts, "not json", kSecret), 400);
  // Pretty-printed JSON is stored on one line.
  EXPECT_EQ(PostSigned(receiver.Url(), "msg_three", ts, "{\n  \"a\": [1, 2]\n}\n", kSecret), 200);
  EXPECT_EQ(receiver.Signal(SIGTERM), 0) << receiver.Stderr();

  auto lines = Lines(out);
  ASSERT_EQ(lines.size(), 2u) << ReadTextFile(out);
  simdjson::dom::parser parser;
  simdjson::dom::element first = parser.parse(lines[0]).value();
  EXPECT_EQ(Str(first["webhook_id"]), "msg_one");
  EXPECT_EQ(Int(first["timestamp"]), ts);
  EXPECT_FALSE(Str(first["received_at"]).empty());
  EXPECT_EQ(Raw(first["body"]), body);
  simdjson::dom::parser parser2;
  simdjson::dom::element third = parser2.parse(lines[1]).value();
  EXPECT_EQ(Str(third["webhook_id"]), "msg_three");
  EXPECT_EQ(Raw(third["body"]), "{\"a\":[1,2]}");
}

TEST(WebhookReceiverIntegrationTest, BinaryFailFirstHangFirstAndFlags) {
  ReceiverProcess receiver({"--fail-first", "2", "--fail-status", "503", "--hang-first", "1",
                            "--hang-ms", "300", "--tolerance-seconds", "-1"});
  ASSERT_TRUE(receiver.Start());
  auto t0 = SteadyClock::now();
  // 1st delivery: held for 300 ms, then 504; 2nd: 503 (fail-first counts the hung one too).
  EXPECT_EQ(PostSigned(receiver.Url(), "msg_h", 1, "{}", ""), 504);
  EXPECT_GE(SteadyClock::now() - t0, std::chrono::milliseconds(250));
  EXPECT_EQ(PostSigned(receiver.Url(), "msg_h", 1, "{}", ""), 503);
  EXPECT_EQ(PostSigned(receiver.Url(), "msg_h", 1, "{}", ""), 200);
  EXPECT_EQ(receiver.Signal(SIGINT), 0) << receiver.Stderr();

  EXPECT_EQ(RunToExit({"--fail-status", "9999"}), 1);
  EXPECT_EQ(RunToExit({"--fail-first", "x"}), 2);
  EXPECT_EQ(RunToExit({"--bogus", "1"}), 2);
  EXPECT_EQ(RunToExit({"--secret"}), 2);
  EXPECT_EQ(RunToExit({"--help"}), 0);
}

TEST(WebhookReceiverIntegrationTest, BinaryReceivesABatchWebhookFromTheServer) {
  TempDir dir;
  const std::string out = dir.File("deliveries.jsonl");
  // The cloud edition retries, so the first answer can fail; the OSS edition has one try.
  const bool cloud = PAPR_WITH_ENGINE != 0;
  ReceiverProcess receiver({"--secret", kSecret, "--out", out, "--fail-first", cloud ? "1" : "0"});
  ASSERT_TRUE(receiver.Start());
  ServerOptions options;
  options.config_file = ConfigPath(cloud ? "cloud.yaml" : "opensource.yaml");
  options.extra_yaml =
      "webhooks:\n  allow_private_targets: true\n  retry_schedule_seconds: [0, 1, 1]\n";
  ServerProcess server(options);
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  std::string body =
      "{\"memories\":[{\"content\":\"webhook binary test memory\"}],"
      "\"webhook_url\":" +
      JsonQuote(receiver.Url()) + ",\"webhook_secret\":" + JsonQuote(kSecret) + "}";
  Reply submitted = api.Post("/v1/memory/batch", body);
  ASSERT_EQ(submitted.status, 202) << submitted.Describe();
  std::string id = Str(submitted.Json()["batch_id"]);

  auto deadline = SteadyClock::now() + std::chrono::seconds(20);
  Reply status;
  while (SteadyClock::now() < deadline) {
    status = api.Get("/v1/memory/batch/status/" + id);
    if (status.status == 200 && Str(status.Json()["webhook"]["status"]) != "pending") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(status.status, 200) << status.Describe();
  EXPECT_EQ(Str(status.Json()["webhook"]["status"]), "delivered") << status.body;
  EXPECT_EQ(Int(status.Json()["webhook"]["attempts"]), cloud ? 2 : 1) << status.body;
  EXPECT_EQ(receiver.Signal(SIGTERM), 0) << receiver.Stderr();

  auto lines = Lines(out);
  ASSERT_EQ(lines.size(), 1u) << ReadTextFile(out) << receiver.Stderr();
  simdjson::dom::parser parser;
  simdjson::dom::element line = parser.parse(lines[0]).value();
  EXPECT_FALSE(Str(line["webhook_id"]).empty());
  EXPECT_EQ(Str(line["body"]["type"]), "batch.completed");
  EXPECT_EQ(Str(line["body"]["data"]["batch_id"]), id);
  EXPECT_EQ(Int(line["body"]["data"]["successful_memories"]), 1);
}

}  // namespace
}  // namespace papr::integration
