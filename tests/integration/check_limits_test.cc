// GET /v1/usage and `papr check-limits` (PAPR_BIN_DIR/papr) against the OSS edition
// (config/opensource.yaml, batch limit 50): per-user counts of attempted / rejected /
// accepted batches, the recommendation from messaging.batch_limit_message, the text and
// --json reports, exit codes (0 batches fit, 3 they exceed the limits, 1 server unreachable,
// 2 usage error), and
// counts that survive a restart. See /work/shared/API.md.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include "tests/integration/api_client.h"
#include "tests/integration/server_process.h"

extern char** environ;

namespace papr::integration {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kBobKey = "it-check-limits-bob-key-42";

std::string Batch(int n, const std::string& tag = "m") {
  std::string body = "{\"memories\":[";
  for (int i = 0; i < n; ++i) {
    body += std::string(i ? "," : "") + "{\"content\":\"" + tag + " memory " + std::to_string(i) +
            "\"}";
  }
  return body + "]}";
}

std::string PaprBinary() { return std::string(PAPR_BIN_DIR) + "/papr"; }

struct CliResult {
  int exit_code = -1;  // 128+signal if killed; -1 if it had to be killed after the timeout
  std::string out;
  std::string err;
};

// Runs PAPR_BIN_DIR/papr with `args` and an environment without PAPR_* variables (plus `env`),
// capturing stdout and stderr. Bounded by `timeout_ms`.
CliResult RunPapr(const std::vector<std::string>& args, const EnvVars& env = {},
                  int timeout_ms = 15000) {
  CliResult result;
  std::vector<std::string> env_strings;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::strncmp(*e, "PAPR_", 5) != 0) env_strings.emplace_back(*e);
  }
  for (const auto& [name, value] : env) env_strings.push_back(name + "=" + value);
  std::vector<std::string> argv = {PaprBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> envp, argp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  for (auto& s : argv) argp.push_back(s.data());
  argp.push_back(nullptr);

  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return result;
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return result;
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    execve(argp[0], argp.data(), envp.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (pid < 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    return result;
  }
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  bool timed_out = false;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    int r = poll(fds, 2, static_cast<int>(std::min<int64_t>(left.count(), 100)));
    if (r <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      char buf[4096];
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& p : fds) {
    if (p.fd >= 0) close(p.fd);
  }
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return result;
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.exit_code = 128 + WTERMSIG(status);
  return result;
}

std::string Describe(const CliResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

// The value after "<label>" on the report line that starts with it, trimmed; "" if absent.
std::string ReportValue(const std::string& report, const std::string& label) {
  size_t at = report.find(label);
  if (at == std::string::npos) return "";
  size_t start = at + label.size();
  size_t end = report.find('\n', start);
  std::string value = report.substr(start, end == std::string::npos ? end : end - start);
  size_t first = value.find_first_not_of(' ');
  return first == std::string::npos ? "" : value.substr(first);
}

YAML::Node OssConfig() { return YAML::LoadFile(ConfigPath("opensource.yaml")); }

std::string ServerUrl(const ServerProcess& server) {
  return "http://127.0.0.1:" + std::to_string(server.port());
}

::testing::AssertionResult PaprBuilt() {
  if (std::filesystem::exists(PaprBinary())) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << PaprBinary() << " is missing: build the `papr` target (integration_tests needs "
         << "add_dependencies(integration_tests papr))";
}

// The checks on /v1/usage of a user who sent 51, 51 (both 413) and 10 (accepted).
void ExpectOverLimitUsage(const Reply& usage, const YAML::Node& config) {
  ASSERT_EQ(usage.status, 200) << usage.Describe();
  EXPECT_NE(usage.Header("content-type").find("application/json"), std::string_view::npos);
  auto doc = usage.Json();
  EXPECT_EQ(Str(doc["edition"]), "opensource");
  EXPECT_EQ(Int(doc["limits"]["max_batch_size"]), 50);
  EXPECT_EQ(Int(doc["usage"]["batches_attempted"]), 3) << usage.body;
  EXPECT_EQ(Int(doc["usage"]["batches_rejected_for_size"]), 2) << usage.body;
  EXPECT_EQ(Int(doc["usage"]["batches_accepted"]), 1) << usage.body;
  EXPECT_EQ(Int(doc["usage"]["max_batch_size_attempted"]), 51) << usage.body;
  double average = doc["usage"]["average_batch_size"].get_double().value();
  EXPECT_NEAR(average, (51.0 + 51.0 + 10.0) / 3.0, 0.05) << usage.body;
  EXPECT_TRUE(doc["exceeds_limits"].get_bool().value()) << usage.body;
  EXPECT_EQ(Str(doc["recommendation"]), config["messaging"]["batch_limit_message"].as<std::string>());
  EXPECT_EQ(Str(doc["upgrade_url"]), config["messaging"]["upgrade_url"].as<std::string>());
  simdjson::dom::array benefits = doc["cloud_benefits"].get_array().value();
  EXPECT_GT(benefits.size(), 0u) << usage.body;
  EXPECT_EQ(benefits.size(), config["messaging"]["cloud_benefits"].size()) << usage.body;
}

TEST(CheckLimitsIntegrationTest, UsageCountsRejectedBatchesAndSurvivesRestart) {
  ASSERT_TRUE(PaprBuilt());
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  const YAML::Node config = OssConfig();

  Reply r1 = api.Post("/v1/memory/batch", Batch(51, "a"));
  ASSERT_TRUE(IsErrorEnvelope(r1, 413));
  Reply r2 = api.Post("/v1/memory/batch", Batch(51, "b"));
  ASSERT_TRUE(IsErrorEnvelope(r2, 413));
  Reply accepted = api.Post("/v1/memory/batch?wait=10", Batch(10, "c"));
  ASSERT_EQ(accepted.status, 200) << accepted.Describe();

  Reply usage = api.Get("/v1/usage");
  ExpectOverLimitUsage(usage, config);
  if (HasFatalFailure()) return;
  EXPECT_EQ(Str(usage.Json()["user_id"]), "default");

  // Text report.
  CliResult text = RunPapr({"check-limits", "--server", ServerUrl(server), "--api-key", kTestApiKey});
  ASSERT_EQ(text.exit_code, 3) << "over the limits: " << Describe(text);
  EXPECT_EQ(ReportValue(text.out, "Rejected as too large:"), "2") << text.out;
  EXPECT_EQ(ReportValue(text.out, "Batches attempted:"), "3") << text.out;
  EXPECT_EQ(ReportValue(text.out, "Largest batch attempted:"), "51") << text.out;
  EXPECT_EQ(ReportValue(text.out, "Batch size limit:"), "50") << text.out;
  EXPECT_EQ(ReportValue(text.out, "Average batch size:"), "37.3") << text.out;
  EXPECT_NE(text.out.find("https://papr.ai/cloud"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("Recommendation: " +
                          config["messaging"]["batch_limit_message"].as<std::string>()),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find(config["messaging"]["cloud_benefits"][0].as<std::string>()),
            std::string::npos)
      << text.out;
  EXPECT_EQ(text.out.find("fit the limits"), std::string::npos) << text.out;

  // --json prints the server's usage document; a trailing slash on --server is fine.
  CliResult json = RunPapr(
      {"check-limits", "--server", ServerUrl(server) + "/", "--api-key", kTestApiKey, "--json"});
  ASSERT_EQ(json.exit_code, 3) << Describe(json);
  Reply as_reply;
  as_reply.status = 200;
  as_reply.body = json.out;
  as_reply.headers = {{"content-type", "application/json"}};
  ExpectOverLimitUsage(as_reply, config);

  // PAPR_SERVER / PAPR_API_KEY stand in for the flags.
  CliResult from_env = RunPapr({"check-limits", "--json"},
                               {{"PAPR_SERVER", ServerUrl(server)}, {"PAPR_API_KEY", kTestApiKey}});
  EXPECT_EQ(from_env.exit_code, 3) << Describe(from_env);
  // -o json is --json; -o jsonl is one line too.
  CliResult o_json = RunPapr({"check-limits", "-o", "jsonl", "--server", ServerUrl(server),
                              "--api-key", kTestApiKey});
  EXPECT_EQ(o_json.exit_code, 3) << Describe(o_json);
  EXPECT_EQ(o_json.out, json.out);
  EXPECT_EQ(std::count(o_json.out.begin(), o_json.out.end(), '\n'), 1) << o_json.out;

  // Graceful restart on the same data dir: the counters are durable.
  ASSERT_TRUE(server.Restart());
  ApiClient after(server.port(), kTestApiKey);
  ExpectOverLimitUsage(after.Get("/v1/usage"), config);
  CliResult text_after =
      RunPapr({"check-limits", "--server", ServerUrl(server), "--api-key", kTestApiKey});
  ASSERT_EQ(text_after.exit_code, 3) << Describe(text_after);
  EXPECT_EQ(ReportValue(text_after.out, "Rejected as too large:"), "2") << text_after.out;
}

TEST(CheckLimitsIntegrationTest, UserWithSmallBatchesFitsLimitsAndIsCountedSeparately) {
  ASSERT_TRUE(PaprBuilt());
  ServerOptions options;
  options.extra_yaml = std::string("auth: {api_keys: [{key: ") + kBobKey + ", user_id: bob}]}";
  ServerProcess server(options);
  ASSERT_TRUE(server.Start());
  ApiClient other(server.port(), kTestApiKey);
  ApiClient bob(server.port(), kBobKey);
  // Another user's rejected batch must not show in bob's usage.
  ASSERT_TRUE(IsErrorEnvelope(other.Post("/v1/memory/batch", Batch(60)), 413));
  ASSERT_EQ(bob.Post("/v1/memory/batch?wait=10", Batch(5)).status, 200);
  ASSERT_EQ(bob.Post("/v1/memory/batch?wait=10", Batch(10)).status, 200);

  Reply usage = bob.Get("/v1/usage");
  ASSERT_EQ(usage.status, 200) << usage.Describe();
  auto doc = usage.Json();
  EXPECT_EQ(Str(doc["user_id"]), "bob");
  EXPECT_EQ(Int(doc["usage"]["batches_attempted"]), 2) << usage.body;
  EXPECT_EQ(Int(doc["usage"]["batches_accepted"]), 2) << usage.body;
  EXPECT_EQ(Int(doc["usage"]["batches_rejected_for_size"]), 0) << usage.body;
  EXPECT_EQ(Int(doc["usage"]["max_batch_size_attempted"]), 10) << usage.body;
  EXPECT_NEAR(doc["usage"]["average_batch_size"].get_double().value(), 7.5, 0.01) << usage.body;
  EXPECT_FALSE(doc["exceeds_limits"].get_bool().value()) << usage.body;
  EXPECT_TRUE(IsNull(doc["recommendation"])) << usage.body;

  CliResult text = RunPapr({"check-limits", "--server", ServerUrl(server), "--api-key", kBobKey});
  ASSERT_EQ(text.exit_code, 0) << Describe(text);
  EXPECT_NE(text.out.find("fit the limits"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("Recommendation"), std::string::npos) << text.out;
  EXPECT_EQ(ReportValue(text.out, "Rejected as too large:"), "0") << text.out;

  // The other user's own usage has only its rejected batch.
  Reply other_usage = other.Get("/v1/usage");
  ASSERT_EQ(other_usage.status, 200) << other_usage.Describe();
  EXPECT_EQ(Int(other_usage.Json()["usage"]["batches_attempted"]), 1) << other_usage.body;
  EXPECT_EQ(Int(other_usage.Json()["usage"]["batches_rejected_for_size"]), 1) << other_usage.body;
  EXPECT_TRUE(other_usage.Json()["exceeds_limits"].get_bool().value()) << other_usage.body;

  // /v1/usage needs a key like every /v1 route.
  EXPECT_TRUE(IsErrorEnvelope(ApiClient(server.port(), "").Get("/v1/usage"), 401));
  EXPECT_TRUE(IsErrorEnvelope(ApiClient(server.port(), "nope").Get("/v1/usage"), 401));
  EXPECT_TRUE(IsErrorEnvelope(bob.Post("/v1/usage", "{}"), 405));
}

TEST(CheckLimitsIntegrationTest, BatchRefusedAfterDecodingIsNotCountedAsAccepted) {
  // A batch within the size limit but refused for another reason (here 400: private webhook
  // target) was not accepted.
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  Reply refused = api.Post("/v1/memory/batch",
                           "{\"memories\":[{\"content\":\"x\"}],"
                           "\"webhook_url\":\"http://127.0.0.1:9/hook\"}");
  ASSERT_TRUE(IsErrorEnvelope(refused, 400));
  Reply usage = api.Get("/v1/usage");
  ASSERT_EQ(usage.status, 200) << usage.Describe();
  EXPECT_EQ(Int(usage.Json()["usage"]["batches_accepted"]), 0) << usage.body;
  EXPECT_EQ(Int(usage.Json()["usage"]["batches_rejected_for_size"]), 0) << usage.body;
}

TEST(CheckLimitsIntegrationTest, ExitCodes) {
  ASSERT_TRUE(PaprBuilt());
  // Nothing listens on port 1: unreachable -> 1.
  CliResult unreachable =
      RunPapr({"check-limits", "--server", "http://127.0.0.1:1", "--api-key", kTestApiKey});
  EXPECT_EQ(unreachable.exit_code, 1) << Describe(unreachable);
  EXPECT_FALSE(unreachable.err.empty());
  EXPECT_TRUE(unreachable.out.empty()) << unreachable.out;
  // Usage errors -> 2.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"no-such-command"},
           {"check-limits"},
           {"check-limits", "--server", "http://127.0.0.1:1"},
           {"check-limits", "--api-key", kTestApiKey},
           {"check-limits", "--server", "http://127.0.0.1:1", "--api-key", kTestApiKey, "--bogus"},
           {"check-limits", "--server"}}) {
    CliResult r = RunPapr(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.exit_code, 2) << "papr " << joined << "\n" << Describe(r);
    EXPECT_NE(r.err.find("usage"), std::string::npos) << "papr " << joined << "\n" << Describe(r);
  }
  // What is wrong is named.
  CliResult bogus = RunPapr(
      {"check-limits", "--server", "http://127.0.0.1:1", "--api-key", kTestApiKey, "--bogus"});
  EXPECT_NE(bogus.err.find("unknown flag --bogus"), std::string::npos) << Describe(bogus);
  EXPECT_NE(RunPapr({"check-limits", "--server"}).err.find("--server needs a value"),
            std::string::npos);
  EXPECT_NE(RunPapr({"check-limits", "-o", "yaml", "--server", "x", "--api-key", "k"})
                .err.find("-o takes text, json or jsonl"),
            std::string::npos);
  // --help is no error: the usage on stdout, exit 0.
  for (const char* help : {"--help", "-h", "help"}) {
    CliResult r = RunPapr({help});
    EXPECT_EQ(r.exit_code, 0) << help << "\n" << Describe(r);
    EXPECT_NE(r.out.find("usage: papr check-limits"), std::string::npos) << Describe(r);
  }
  // A running server that refuses the key: the report could not be printed -> 1.
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  CliResult refused =
      RunPapr({"check-limits", "--server", ServerUrl(server), "--api-key", "wrong-key"});
  EXPECT_EQ(refused.exit_code, 1) << Describe(refused);
  EXPECT_NE(refused.err.find("401"), std::string::npos) << Describe(refused);
}

}  // namespace
}  // namespace papr::integration
