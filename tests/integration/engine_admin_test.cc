// engine-admin (tools/engine_admin) against the database of a real cloud-edition papr-server
// (its data dir, or in the PostgreSQL stage its PostgreSQL database, named by the server's
// config): every read command while the server runs and again after it stopped, replay of recorded
// and of edited histories, the direct-mode write commands (refused while the server uses
// the database; applied once it stopped, and picked up by the server when it starts again),
// and the server-mode write commands (--server/--api-key or $PAPR_SERVER/$PAPR_API_KEY: through
// the running server's admin endpoints).
// The processing endpoint is a tiny HTTP server in this process: it rejects (422) memories
// whose content says REJECT and delays those that say SLOW.

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "common/byte_codec.h"
#include "engine/history_rows.h"
#include "tests/integration/admin_run.h"
#include "tests/integration/api_client.h"
#include "tests/integration/batch_polling.h"
#include "tests/integration/server_process.h"
#include "tests/integration/test_endpoint.h"
#include "storage/db.h"
#include "storage/keys.h"
#include "storage/open/open_database.h"
#include "tests/storage/pg_harness.h"

extern char** environ;

namespace papr::integration {
namespace {

using Clock = std::chrono::steady_clock;
using simdjson::dom::element;

// ---------------------------------------------------------------------------------------------
// The processing endpoint: 422 for content with REJECT, 200 after 40 ms for SLOW, else 200.

class ProcessingEndpoint {
 public:
  ProcessingEndpoint()
      : server_([](const net::HttpRequest& req) {
          if (req.body.find("SLOW") != std::string::npos) {
            std::this_thread::sleep_for(std::chrono::milliseconds(40));
          }
          bool reject = req.body.find("REJECT") != std::string::npos;
          return net::HttpResponse::Json(reject ? 422 : 200,
                                         reject ? "{\"error\":\"rejected\"}" : "{\"ok\":true}");
        }) {}
  std::string Yaml() const { return server_.ProcessingYaml(); }

 private:
  TestEndpoint server_;
};

// ---------------------------------------------------------------------------------------------
// Batches.

// n memories; those with index % reject_every == 0 contain REJECT (0: none); all SLOW if slow.
std::string Body(int n, int reject_every, bool slow, const std::string& extra = "") {
  std::string body = "{\"memories\":[";
  for (int i = 0; i < n; ++i) {
    std::string content = "engine admin memory " + std::to_string(i) + " about gardens";
    if (reject_every > 0 && i % reject_every == 0) content += " REJECT";
    if (slow) content += " SLOW";
    if (i > 0) body += ",";
    body += "{\"content\":";
    body += JsonQuote(content);
    body += "}";
  }
  return body + "]" + (extra.empty() ? "" : "," + extra) + "}";
}

std::string Submit(const ApiClient& api, const std::string& body) {
  Reply r = api.Call("POST", "/v1/memory/batch", body, {}, 60000);
  EXPECT_EQ(r.status, 202) << r.Describe();
  return r.status == 202 ? Str(r.Json()["batch_id"]) : "";
}

ServerOptions CloudServer(const ProcessingEndpoint& endpoint) {
  ServerOptions o;
  o.config_file = ConfigPath("cloud.yaml");
  o.extra_yaml = endpoint.Yaml();
  o.start_timeout_ms = 30000;
  return o;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(text.substr(start, nl - start));
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

class EngineAdminIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
#if !PAPR_WITH_ENGINE
    GTEST_SKIP() << "engine-admin is built only with PAPR_WITH_ENGINE";
#endif
    ASSERT_EQ(access(AdminBinary().c_str(), X_OK), 0)
        << AdminBinary() << " is missing: build the engine-admin target";
  }

  // Runs `args` plus --config of `server` (which names its database) and, on RocksDB, its
  // --data-dir.
  AdminRun Admin(const ServerProcess& server, std::vector<std::string> args) {
    args.insert(args.end(), {"--config", server.config_file()});
    if (server.postgres_database().empty()) {
      args.insert(args.end(), {"--data-dir", server.data_dir()});
    }
    return RunAdmin(args);
  }
};

// list, describe, history, export, stats and replay on a server's data dir (running or not): batch
// `ok` completed with 20 successes, `partial` with 4 of 12 rejected.
void CheckReadCommands(const std::string& ok, const std::string& partial, bool on_postgres,
                       const std::function<AdminRun(std::vector<std::string>)>& admin) {
  AdminRun list = admin({"list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.Describe();
  int found = 0;
  element listed = list.Json();
  simdjson::dom::array executions = listed["executions"].get_array().value();
  for (element e : executions) {
    std::string id = Str(e["workflow_id"]);
    if (id == ok || id == partial) {
      ++found;
      EXPECT_EQ(Str(e["status"]), "completed");
      EXPECT_EQ(Str(e["workflow_type"]), "batch_memory");
      EXPECT_FALSE(Str(e["start_time"]).empty());
    }
  }
  EXPECT_EQ(found, 2) << list.out;
  AdminRun text_list = admin({"list", "--status", "completed", "--type", "batch_memory"});
  ASSERT_EQ(text_list.exit_code, 0) << text_list.Describe();
  EXPECT_NE(text_list.out.find(ok), std::string::npos) << text_list.out;

  AdminRun describe = admin({"describe", partial, "--json"});
  ASSERT_EQ(describe.exit_code, 0) << describe.Describe();
  element d = describe.Json();
  EXPECT_EQ(Str(d["status"]), "completed");
  EXPECT_EQ(Int(d["progress"]["succeeded"]), 8);
  EXPECT_EQ(Int(d["progress"]["failed"]), 4);
  EXPECT_EQ(Int(d["activities"]["pending"]), 0);
  EXPECT_EQ(d["first_failures"].get_array().value().size(), 4u);
  EXPECT_EQ(Int(d["batch"]["total"]), 12);
  int64_t events = Int(d["history_events"]);
  EXPECT_GT(Int(d["history_bytes"]), events);
  AdminRun described_text = admin({"describe", partial});
  EXPECT_EQ(described_text.exit_code, 0) << described_text.Describe();
  EXPECT_NE(described_text.out.find("failed activity:"), std::string::npos) << described_text.out;

  AdminRun history = admin({"history", partial});
  ASSERT_EQ(history.exit_code, 0) << history.Describe();
  std::vector<std::string> lines = Lines(history.out);
  ASSERT_EQ(static_cast<int64_t>(lines.size()), events) << history.out;
  EXPECT_EQ(lines.front().rfind("1 WorkflowExecutionStarted", 0), 0u) << lines.front();
  EXPECT_NE(lines.back().find("WorkflowExecutionCompleted"), std::string::npos) << lines.back();
  AdminRun page = admin({"history", partial, "--after", "2", "--limit", "3"});
  ASSERT_EQ(page.exit_code, 0) << page.Describe();
  ASSERT_EQ(Lines(page.out).size(), 3u) << page.out;
  EXPECT_EQ(Lines(page.out)[0].rfind("3 ", 0), 0u) << page.out;

  AdminRun exported = admin({"export", partial});
  ASSERT_EQ(exported.exit_code, 0) << exported.Describe();
  element x = exported.Json();
  EXPECT_EQ(Str(x["format"]), "papr.history/v1");
  EXPECT_EQ(Str(x["workflow_id"]), partial);
  EXPECT_EQ(static_cast<int64_t>(x["events"].get_array().value().size()), events);
  element first = x["events"].at(0).value();
  EXPECT_EQ(Str(first["type"]), "WorkflowExecutionStarted");
  EXPECT_EQ(admin({"history", partial, "--json"}).out, exported.out);

  AdminRun stats = admin({"stats", "--json"});
  ASSERT_EQ(stats.exit_code, 0) << stats.Describe();
  EXPECT_GE(Int(stats.Json()["executions"]["completed"]), 2);
  EXPECT_GE(Int(stats.Json()["history_events"]), events);
  EXPECT_EQ(Str(stats.Json()["backend"]), on_postgres ? "postgres" : "rocksdb");
  if (on_postgres) {
    EXPECT_TRUE(IsNull(stats.Json()["db_dir_bytes"])) << stats.out;  // no directory of ours
  } else {
    EXPECT_GT(Int(stats.Json()["db_dir_bytes"]), 0);
  }
  EXPECT_EQ(admin({"stats"}).exit_code, 0);

  for (const auto& id : {ok, partial}) {
    AdminRun replay = admin({"replay", id});
    EXPECT_EQ(replay.exit_code, 0) << replay.Describe();
    EXPECT_EQ(replay.out.rfind("OK " + id, 0), 0u) << replay.out;
  }
  AdminRun all = admin({"replay", "--all", "--json"});
  EXPECT_EQ(all.exit_code, 0) << all.Describe();
}

TEST_F(EngineAdminIntegrationTest, ReadCommandsWorkWhileTheServerRunsAndAfterItStops) {
  ProcessingEndpoint endpoint;
  ServerProcess server(CloudServer(endpoint));
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  std::string ok = Submit(api, Body(20, 0, false));
  std::string partial = Submit(api, Body(12, 3, false));
  ASSERT_FALSE(ok.empty() || partial.empty());
  ASSERT_EQ(WaitForState(api, ok, {"completed"}), "completed");
  ASSERT_EQ(WaitForState(api, partial, {"partial"}), "partial");
  auto admin = [&](std::vector<std::string> args) { return Admin(server, std::move(args)); };

  {
    SCOPED_TRACE("server running");
    CheckReadCommands(ok, partial, !server.postgres_database().empty(), admin);
    if (HasFatalFailure()) return;
  }
  ASSERT_EQ(server.Terminate(), 0) << server.StderrText();
  {
    SCOPED_TRACE("server stopped");
    CheckReadCommands(ok, partial, !server.postgres_database().empty(), admin);
  }
  AdminRun missing = Admin(server, {"describe", "no-such-workflow"});
  EXPECT_EQ(missing.exit_code, 1) << missing.Describe();
  EXPECT_EQ(Lines(missing.err).size(), 1u) << missing.err;
  EXPECT_NE(missing.err.find("not found"), std::string::npos) << missing.err;
}

// history shows payloads decoded by the batch workflow's formatters (text and --json), and
// every activity event's activity_id, 0 included; --raw keeps the stored bytes.
TEST_F(EngineAdminIntegrationTest, HistoryShowsDecodedPayloadsAndRawKeepsTheBytes) {
  ProcessingEndpoint endpoint;
  ServerProcess server(CloudServer(endpoint));
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  std::string id = Submit(api, Body(6, 3, false));
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(WaitForState(api, id, {"partial"}), "partial");

  AdminRun text = Admin(server, {"history", id});
  ASSERT_EQ(text.exit_code, 0) << text.Describe();
  std::vector<std::string> lines = Lines(text.out);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines[0].find("payload={\"user_id\":"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"total\":6,"), std::string::npos) << lines[0];
  EXPECT_NE(text.out.find("ActivityTaskStarted activity_id=0 "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("payload={\"memory_index\":0}"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("options={\"retry_policy\":{"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("payload={\"state\":\"partial\",\"succeeded\":4,\"failed\":2,"),
            std::string::npos)
      << lines.back();

  AdminRun raw = Admin(server, {"history", id, "--raw"});
  ASSERT_EQ(raw.exit_code, 0) << raw.Describe();
  std::vector<std::string> raw_lines = Lines(raw.out);
  ASSERT_EQ(raw_lines.size(), lines.size());
  EXPECT_NE(raw_lines[0].find("payload=\\x03"), std::string::npos) << raw_lines[0];  // bytes
  EXPECT_EQ(raw.out.find("\"total\""), std::string::npos) << raw_lines[0];
  EXPECT_NE(raw.out.find("ActivityTaskStarted activity_id=0 "), std::string::npos);

  AdminRun json = Admin(server, {"history", id, "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.Describe();
  element doc = json.Json();
  simdjson::dom::array events = doc["events"].get_array().value();
  element first = events.at(0).value();
  EXPECT_EQ(Int(first["decoded"]["payload"]["total"]), 6) << Raw(first);
  EXPECT_FALSE(Str(first["payload_b64"]).empty());  // the bytes stay the truth
  int activity_zero = 0;
  for (element e : events) {
    std::string type = Str(e["type"]);
    if (type.rfind("ActivityTask", 0) != 0) continue;
    ASSERT_EQ(e["activity_id"].error(), simdjson::SUCCESS) << Raw(e);
    if (Int(e["activity_id"]) != 0) continue;
    ++activity_zero;
    if (type == "ActivityTaskScheduled") {
      EXPECT_EQ(Int(e["decoded"]["payload"]["memory_index"]), 0) << Raw(e);
      EXPECT_EQ(Int(e["decoded"]["options"]["retry_policy"]["maximum_attempts"]), 5) << Raw(e);
    }
  }
  EXPECT_GE(activity_zero, 3);  // scheduled, started, failed (index 0 is rejected)
  AdminRun raw_json = Admin(server, {"history", id, "--json", "--raw"});
  ASSERT_EQ(raw_json.exit_code, 0) << raw_json.Describe();
  EXPECT_EQ(raw_json.out.find("\"decoded\""), std::string::npos);
  EXPECT_NO_THROW(raw_json.Json());

  // An exported document with decoded fields replays.
  TempDir dir;
  AdminRun exported = Admin(server, {"export", id});
  ASSERT_EQ(exported.out, json.out);
  ASSERT_TRUE(WriteTextFile(dir.File("h.json"), exported.out));
  AdminRun replay = Admin(server, {"replay", "--file", dir.File("h.json")});
  EXPECT_EQ(replay.exit_code, 0) << replay.Describe();
}

TEST_F(EngineAdminIntegrationTest, ReplayOfAnEditedHistoryFailsNamingTheEvent) {
  ProcessingEndpoint endpoint;
  ServerProcess server(CloudServer(endpoint));
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  std::string id = Submit(api, Body(12, 3, false));
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(WaitForState(api, id, {"partial"}), "partial");

  AdminRun exported = Admin(server, {"export", id});
  ASSERT_EQ(exported.exit_code, 0) << exported.Describe();
  TempDir dir;
  ASSERT_TRUE(WriteTextFile(dir.File("good.json"), exported.out));
  AdminRun good =
      RunAdmin({"replay", "--file", dir.File("good.json"), "--config", server.config_file()});
  EXPECT_EQ(good.exit_code, 0) << good.Describe();

  // Event 3 is the first ActivityTaskScheduled (event 2 is the batch workflow's GetVersion
  // marker): rename its activity type.
  std::vector<std::string> lines = Lines(exported.out);
  ASSERT_GT(lines.size(), 4u);
  const std::string from = "\"activity_type\":\"process_memory\"";
  size_t at = lines[3].find(from);
  ASSERT_NE(at, std::string::npos) << lines[3];
  ASSERT_NE(lines[3].find("\"event_id\":3,"), std::string::npos) << lines[3];
  lines[3].replace(at, from.size(), "\"activity_type\":\"process_memory_v0\"");
  std::string edited;
  for (const auto& l : lines)
    edited += l + "\n";
  ASSERT_TRUE(WriteTextFile(dir.File("edited.json"), edited));
  AdminRun bad =
      RunAdmin({"replay", "--file", dir.File("edited.json"), "--config", server.config_file()});
  EXPECT_EQ(bad.exit_code, 1) << bad.Describe();
  EXPECT_NE(bad.out.find("non-determinism at event 3"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("process_memory_v0"), std::string::npos) << bad.out;  // history side
  EXPECT_NE(bad.out.find("activity_type=process_memory "), std::string::npos) << bad.out;  // code

  AdminRun bad_json = RunAdmin({"replay", "--file", dir.File("edited.json"), "--json"});
  EXPECT_EQ(bad_json.exit_code, 1) << bad_json.Describe();
  EXPECT_FALSE(bad_json.Json()["ok"].get_bool().value());

  ASSERT_TRUE(WriteTextFile(dir.File("broken.json"), "{\"format\":\"papr.history/v9\"}"));
  AdminRun broken = RunAdmin({"replay", "--file", dir.File("broken.json")});
  EXPECT_EQ(broken.exit_code, 1) << broken.Describe();
  EXPECT_NE(broken.err.find("papr.history/v1"), std::string::npos) << broken.err;
}

TEST_F(EngineAdminIntegrationTest, WriteCommandsNeedTheServerStoppedThenChangeState) {
  ProcessingEndpoint endpoint;
  ServerProcess server(CloudServer(endpoint));
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  std::string partial = Submit(api, Body(12, 3, false));
  std::string to_cancel = Submit(api, Body(400, 0, true, "\"max_concurrency\":1"));
  std::string to_terminate = Submit(api, Body(400, 0, true, "\"max_concurrency\":1"));
  ASSERT_FALSE(partial.empty() || to_cancel.empty() || to_terminate.empty());
  ASSERT_EQ(WaitForState(api, partial, {"partial"}), "partial");

  AdminRun refused = Admin(server, {"cancel", to_cancel});
  EXPECT_EQ(refused.exit_code, 1) << refused.Describe();
  EXPECT_NE(refused.err.find("in use by another process"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--server"), std::string::npos) << refused.err;
  EXPECT_EQ(Lines(refused.err).size(), 1u) << refused.err;

  ASSERT_EQ(server.Terminate(), 0) << server.StderrText();
  for (const auto& id : {to_cancel, to_terminate}) {
    AdminRun before = Admin(server, {"describe", id, "--json"});
    ASSERT_EQ(before.exit_code, 0) << before.Describe();
    ASSERT_EQ(Str(before.Json()["status"]), "running")
        << "the batch ended before the test got to it";
  }

  AdminRun terminated = Admin(server, {"terminate", to_terminate, "--reason", "it-test"});
  ASSERT_EQ(terminated.exit_code, 0) << terminated.Describe();
  EXPECT_NE(terminated.out.find("mode: direct"), std::string::npos) << terminated.out;
  AdminRun after_terminate = Admin(server, {"describe", to_terminate, "--json"});
  ASSERT_EQ(after_terminate.exit_code, 0) << after_terminate.Describe();
  EXPECT_EQ(Str(after_terminate.Json()["status"]), "terminated");
  EXPECT_EQ(Str(after_terminate.Json()["failure"]), "it-test");
  AdminRun again = Admin(server, {"terminate", to_terminate, "--reason", "twice"});
  EXPECT_EQ(again.exit_code, 1) << again.Describe();
  EXPECT_NE(again.err.find("already terminated"), std::string::npos) << again.err;

  AdminRun cancelled = Admin(server, {"cancel", to_cancel, "--json"});
  ASSERT_EQ(cancelled.exit_code, 0) << cancelled.Describe();
  EXPECT_EQ(Str(cancelled.Json()["mode"]), "direct");
  EXPECT_TRUE(cancelled.Json()["cancel_requested"].get_bool().value()) << cancelled.out;
  AdminRun signalled = Admin(server, {"signal", to_cancel, "poke", "--input", "{\"n\":1}"});
  ASSERT_EQ(signalled.exit_code, 0) << signalled.Describe();
  AdminRun history = Admin(server, {"history", to_cancel});
  EXPECT_NE(history.out.find("WorkflowExecutionCancelRequested"), std::string::npos);
  EXPECT_NE(history.out.find("WorkflowExecutionSignaled payload={\"n\":1} signal_name=poke"),
            std::string::npos)
      << history.out.substr(history.out.size() > 2000 ? history.out.size() - 2000 : 0);

  AdminRun retried = Admin(server, {"retry", partial, "--json"});
  ASSERT_EQ(retried.exit_code, 0) << retried.Describe();
  std::string retry_id = Str(retried.Json()["retry"]["batch_id"]);
  EXPECT_EQ(Int(retried.Json()["retry"]["memories"]), 4);
  EXPECT_FALSE(retried.Json()["retry"]["existing"].get_bool().value());
  AdminRun retried_again = Admin(server, {"retry", partial, "--json"});
  ASSERT_EQ(retried_again.exit_code, 0) << retried_again.Describe();
  EXPECT_EQ(Str(retried_again.Json()["retry"]["batch_id"]), retry_id);
  EXPECT_TRUE(retried_again.Json()["retry"]["existing"].get_bool().value());

  // The server picks up what direct mode recorded.
  ASSERT_TRUE(server.Restart()) << server.StderrText();
  ApiClient restarted(server.port(), kTestApiKey);
  EXPECT_EQ(WaitForState(restarted, to_cancel, {"cancelled"}), "cancelled");
  EXPECT_EQ(WaitForState(restarted, retry_id, {"failed"}), "failed");  // all 4 REJECT again
  Reply retry_status = restarted.Get("/v1/memory/batch/status/" + retry_id);
  EXPECT_EQ(Int(retry_status.Json()["request_counts"]["total"]), 4) << retry_status.body;
  Reply terminated_status = restarted.Get("/v1/memory/batch/status/" + to_terminate);
  EXPECT_EQ(Str(terminated_status.Json()["status"]), "terminated") << terminated_status.body;
  AdminRun replay_all = Admin(server, {"replay", "--all"});
  EXPECT_EQ(replay_all.exit_code, 0) << replay_all.Describe();
}

TEST_F(EngineAdminIntegrationTest, WriteCommandsGoThroughTheRunningServerWithServerFlag) {
  ProcessingEndpoint endpoint;
  ServerOptions options = CloudServer(endpoint);
  options.extra_yaml += "auth:\n  api_keys:\n    - {key: it-admin-other-key-0123456789, "
                        "user_id: other}\n";
  ServerProcess server(options);
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  std::string partial = Submit(api, Body(12, 3, false));
  std::string to_cancel = Submit(api, Body(400, 0, true, "\"max_concurrency\":1"));
  std::string to_terminate = Submit(api, Body(400, 0, true, "\"max_concurrency\":1"));
  ASSERT_FALSE(partial.empty() || to_cancel.empty() || to_terminate.empty());
  ASSERT_EQ(WaitForState(api, partial, {"partial"}), "partial");
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  auto remote = [&](std::vector<std::string> args, const std::string& key = kTestApiKey) {
    args.insert(args.end(), {"--server", url, "--api-key", key});
    return RunAdmin(args);
  };

  AdminRun foreign = remote({"terminate", to_terminate, "--reason", "x"},
                            "it-admin-other-key-0123456789");
  EXPECT_EQ(foreign.exit_code, 1) << foreign.Describe();
  EXPECT_NE(foreign.err.find("404"), std::string::npos) << foreign.err;
  AdminRun bad_key = remote({"cancel", to_cancel}, "no-such-key");
  EXPECT_EQ(bad_key.exit_code, 1) << bad_key.Describe();
  EXPECT_NE(bad_key.err.find("401"), std::string::npos) << bad_key.err;

  AdminRun terminated = remote({"terminate", to_terminate, "--reason", "it-test remote"});
  ASSERT_EQ(terminated.exit_code, 0) << terminated.Describe();
  EXPECT_NE(terminated.out.find("mode: server"), std::string::npos) << terminated.out;
  EXPECT_NE(terminated.out.find(": now terminated"), std::string::npos) << terminated.out;
  EXPECT_EQ(WaitForState(api, to_terminate, {"terminated"}), "terminated");
  AdminRun again = remote({"terminate", to_terminate, "--reason", "twice"});
  EXPECT_EQ(again.exit_code, 1) << again.Describe();
  EXPECT_NE(again.err.find("already terminated"), std::string::npos) << again.err;

  AdminRun signalled =
      remote({"signal", to_cancel, "poke", "--input", "{\"n\":2}", "--json"});
  ASSERT_EQ(signalled.exit_code, 0) << signalled.Describe();
  EXPECT_EQ(Str(signalled.Json()["mode"]), "server");
  EXPECT_EQ(Str(signalled.Json()["server"]), url);
  EXPECT_EQ(Str(signalled.Json()["status"]), "running");
  // Environment instead of flags; no --data-dir needed.
  AdminRun cancelled = RunAdmin({"cancel", to_cancel, "--reason", "from env", "--json"},
                                {{"PAPR_SERVER", url}, {"PAPR_API_KEY", kTestApiKey}});
  ASSERT_EQ(cancelled.exit_code, 0) << cancelled.Describe();
  EXPECT_EQ(Str(cancelled.Json()["mode"]), "server");
  EXPECT_TRUE(cancelled.Json()["cancel_requested"].get_bool().value()) << cancelled.out;
  EXPECT_EQ(WaitForState(api, to_cancel, {"cancelled"}), "cancelled");
  AdminRun history = Admin(server, {"history", to_cancel});  // read commands stay local
  EXPECT_NE(history.out.find("WorkflowExecutionSignaled payload={\"n\":2} signal_name=poke"),
            std::string::npos);
  EXPECT_NE(history.out.find("WorkflowExecutionCancelRequested"), std::string::npos);

  AdminRun retried = remote({"retry", partial, "--json"});
  ASSERT_EQ(retried.exit_code, 0) << retried.Describe();
  EXPECT_EQ(Str(retried.Json()["mode"]), "server");
  EXPECT_EQ(Str(retried.Json()["status"]), "completed");
  std::string retry_id = Str(retried.Json()["retry"]["batch_id"]);
  EXPECT_EQ(Int(retried.Json()["retry"]["memories"]), 4);
  EXPECT_FALSE(retried.Json()["retry"]["existing"].get_bool().value());
  AdminRun retried_text = remote({"retry", partial});
  ASSERT_EQ(retried_text.exit_code, 0) << retried_text.Describe();
  EXPECT_NE(retried_text.out.find("mode: server"), std::string::npos) << retried_text.out;
  EXPECT_NE(retried_text.out.find("already retried as batch " + retry_id), std::string::npos)
      << retried_text.out;
  EXPECT_EQ(WaitForState(api, retry_id, {"failed"}), "failed");  // all 4 REJECT again
  Reply retry_status = api.Get("/v1/memory/batch/status/" + retry_id);
  EXPECT_EQ(Int(retry_status.Json()["request_counts"]["total"]), 4) << retry_status.body;
}

TEST_F(EngineAdminIntegrationTest, UsageErrorsExitWith2) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{},
                                             {"list"},
                                             {"frobnicate", "--data-dir", "/nonexistent"},
                                             {"terminate", "x", "--data-dir", "/nonexistent"},
                                             {"list", "--data-dir", "/d", "--status", "nope"}}) {
    AdminRun run = RunAdmin(args);
    EXPECT_EQ(run.exit_code, 2) << run.Describe();
    EXPECT_EQ(Lines(run.err).size(), 1u) << run.err;
  }
  AdminRun help = RunAdmin({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("usage: engine-admin"), std::string::npos);
  AdminRun no_db = RunAdmin({"list", "--data-dir", "/nonexistent-engine-admin"});
  EXPECT_EQ(no_db.exit_code, 1) << no_db.Describe();
  EXPECT_NE(no_db.err.find("no database"), std::string::npos) << no_db.err;
}


// The PostgreSQL stage only: engine-admin opens the database the config (or the environment, as
// for the server) names, and one without papr-server's tables is "no database", left as it was
// (neither a read nor a direct-mode write creates the schema there).
TEST_F(EngineAdminIntegrationTest, PostgresDatabaseWithoutPaprTablesIsNoDatabaseAndStaysEmpty) {
  const char* admin_url = std::getenv("PAPR_TEST_POSTGRES_URL");
  if (admin_url == nullptr || *admin_url == '\0') {
    GTEST_SKIP() << "the PostgreSQL stage only (tools/test_postgres.sh)";
  }
  auto session = storage::testing::PgSession::Connect(admin_url);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  std::string name = "papr_it_admin_empty_" + std::to_string(getpid());
  ASSERT_TRUE((*session)->Query("CREATE DATABASE " + name).ok());
  std::string base(admin_url);
  std::string url = base.substr(0, base.rfind('/') + 1) + name;
  EnvVars env = {{"PAPR_STORAGE_BACKEND", "postgres"}, {"PAPR_DATABASE_URL", url}};

  AdminRun list = RunAdmin({"list"}, env);  // no --data-dir, no --config: the environment
  EXPECT_EQ(list.exit_code, 1) << list.Describe();
  EXPECT_NE(list.err.find("no database: PostgreSQL database '" + name + "'"), std::string::npos)
      << list.err;
  EXPECT_EQ(list.err.find(url), std::string::npos) << "the URL may hold a password: " << list.err;
  AdminRun fail = RunAdmin({"fail", "wf", "--reason", "r"}, env);
  EXPECT_EQ(fail.exit_code, 1) << fail.Describe();
  EXPECT_NE(fail.err.find("no database"), std::string::npos) << fail.err;

  auto db = storage::testing::PgSession::Connect(url);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto tables = (*db)->Query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'");
  ASSERT_TRUE(tables.ok()) << tables.status().ToString();
  EXPECT_EQ(*tables, "0");
}

}  // namespace
}  // namespace papr::integration

namespace papr::integration {
namespace {

// The server's database, as it opens it (its data dir, or its PostgreSQL database).
Result<std::unique_ptr<storage::Db>> OpenServerDb(const ServerProcess& server) {
  if (server.postgres_database().empty()) {
    storage::DbOptions o;
    o.path = server.data_dir() + "/db";
    return storage::Db::Open(o);
  }
  std::string url = std::getenv("PAPR_TEST_POSTGRES_URL");
  storage::PgStoreOptions o;
  o.url = url.substr(0, url.rfind('/') + 1) + server.postgres_database();
  return storage::OpenPostgresDatabase(o);
}

// Overwrites event `event_id` of `id`, inside the history row (page) that holds it, with bytes
// that do not decode (server stopped). Only with the engine (its tests skip without it).
#if PAPR_WITH_ENGINE
void CorruptEvent(const ServerProcess& server, const std::string& id, uint64_t event_id) {
  auto db = OpenServerDb(server);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto cursor = (*db)->NewCursor(storage::Table::kHistory);
  cursor->Seek(storage::HistoryKey(id, event_id));  // the row whose last event is >= event_id
  ASSERT_TRUE(cursor->Valid()) << cursor->status().ToString();
  std::vector<engine::HistoryEvent> row;
  ASSERT_TRUE(engine::DecodeHistoryRow(cursor->value(), &row).ok());
  auto at = std::find_if(row.begin(), row.end(), [&](const engine::HistoryEvent& e) {
    return e.event_id == static_cast<int64_t>(event_id);
  });
  ASSERT_NE(at, row.end());
  std::string page = engine::EncodeHistoryRow(std::span(row.begin(), at));
  PutLengthPrefixed(&page, "\x07garbage");
  for (++at; at != row.end(); ++at) PutLengthPrefixed(&page, engine::EncodeEvent(*at));
  storage::WriteBatch wb;
  wb.Put(storage::Table::kHistory, std::string(cursor->key()), page);
  cursor.reset();
  ASSERT_TRUE((*db)->Write(wb).ok());
}
#else
void CorruptEvent(const ServerProcess&, const std::string&, uint64_t) {
  FAIL() << "corrupting a history needs the engine's codecs";
}
#endif

TEST_F(EngineAdminIntegrationTest, UnresumableBatchesAreShownThenResetOrFailed) {
  ProcessingEndpoint endpoint;
  ServerProcess server(CloudServer(endpoint));
  ASSERT_TRUE(server.Start());
  std::string to_reset, to_fail;
  {
    ApiClient api(server.port(), kTestApiKey);
    to_reset = Submit(api, Body(40, 0, true, "\"max_concurrency\":1"));
    to_fail = Submit(api, Body(40, 0, true, "\"max_concurrency\":1"));
    ASSERT_FALSE(to_reset.empty() || to_fail.empty());
  }
  ASSERT_EQ(server.Terminate(), 0) << server.StderrText();
  CorruptEvent(server, to_reset, 3);
  CorruptEvent(server, to_fail, 3);

  // The server does not resume them, and says so: status, metrics.
  ASSERT_TRUE(server.Restart()) << server.StderrText();
  {
    ApiClient api(server.port(), kTestApiKey);
    Reply st = api.Get("/v1/memory/batch/status/" + to_reset);
    ASSERT_EQ(st.status, 200) << st.Describe();
    EXPECT_NE(Str(st.Json()["resume_error"]).find("event 3 of workflow " + to_reset +
                                                  " does not decode"),
              std::string::npos)
        << st.body;
    Reply metrics = api.Get("/metrics");
    EXPECT_NE(metrics.body.find("papr_engine_workflows_unresumable 2"), std::string::npos);
  }
  ASSERT_EQ(server.Terminate(), 0) << server.StderrText();
  AdminRun described = Admin(server, {"describe", to_reset});
  ASSERT_EQ(described.exit_code, 0) << described.Describe();
  EXPECT_NE(described.out.find("resumable:          NO: event 3 of workflow"), std::string::npos)
      << described.out;
  AdminRun replay_all = Admin(server, {"replay", "--all", "--status", "running"});
  EXPECT_EQ(replay_all.exit_code, 1) << replay_all.Describe();
  EXPECT_NE(replay_all.out.find(to_fail), std::string::npos) << replay_all.out;

  AdminRun reset = Admin(server, {"reset", to_reset});
  ASSERT_EQ(reset.exit_code, 0) << reset.Describe();
  EXPECT_NE(reset.out.find("kept events 1..2"), std::string::npos) << reset.out;
  AdminRun failed = Admin(server, {"fail", to_fail, "--reason", "history damaged", "--json"});
  ASSERT_EQ(failed.exit_code, 0) << failed.Describe();
  EXPECT_EQ(Str(failed.Json()["status"]), "failed") << failed.out;
  AdminRun after = Admin(server, {"describe", to_reset});
  EXPECT_NE(after.out.find("resumable:          yes"), std::string::npos) << after.out;

  ASSERT_TRUE(server.Restart()) << server.StderrText();
  ApiClient api(server.port(), kTestApiKey);
  EXPECT_EQ(WaitForState(api, to_reset, {"completed"}), "completed");
  Reply reset_status = api.Get("/v1/memory/batch/status/" + to_reset);
  EXPECT_EQ(Int(reset_status.Json()["request_counts"]["succeeded"]), 40) << reset_status.body;
  EXPECT_TRUE(IsNull(reset_status.Json()["resume_error"])) << reset_status.body;
  Reply failed_status = api.Get("/v1/memory/batch/status/" + to_fail);
  EXPECT_EQ(Str(failed_status.Json()["status"]), "failed") << failed_status.body;
  EXPECT_NE(api.Get("/metrics").body.find("papr_engine_workflows_unresumable 0"), std::string::npos);
}

}  // namespace
}  // namespace papr::integration
