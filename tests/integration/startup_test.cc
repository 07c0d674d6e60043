// Start-up checks of the real papr-server binary: bad configs fail fast with a message that
// names the problem; a config asking for the engine on a build without it refuses to start.

#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "tests/integration/server_process.h"

namespace papr::integration {
namespace {

::testing::AssertionResult FailedToStart(const StartupResult& r) {
  if (r.started) {
    return ::testing::AssertionFailure() << "server started (it should not have); stderr:\n"
                                         << r.stderr_text;
  }
  if (r.exit_code == 0 || r.exit_code == -1) {
    return ::testing::AssertionFailure() << "exit code " << r.exit_code << "; stderr:\n"
                                         << r.stderr_text;
  }
  return ::testing::AssertionSuccess();
}

// stderr names line `line` of the config ("file:5", "line 5", ...).
bool NamesLine(const std::string& text, int line) {
  std::regex re("(:|line )" + std::to_string(line) + "\\b");
  return std::regex_search(text, re);
}

TEST(StartupIntegrationTest, UnknownNestedKeyFailsNamingKeyAndLine) {
  TempDir dir;
  const std::string config = dir.File("typo.yaml");
  ASSERT_TRUE(WriteTextFile(config,
                            "# a config with a typo\n"
                            "edition: opensource\n"
                            "features:\n"
                            "  has_temporal: false\n"
                            "  max_batch_sise: 50\n"
                            "limits:\n"
                            "  max_content_bytes: 15000\n"));
  StartupResult r = RunServerExpectingFailure({"--config", config});
  ASSERT_TRUE(FailedToStart(r));
  EXPECT_NE(r.stderr_text.find("max_batch_sise"), std::string::npos) << r.stderr_text;
  EXPECT_TRUE(NamesLine(r.stderr_text, 5)) << r.stderr_text;
}

TEST(StartupIntegrationTest, UnknownTopLevelKeyFailsNamingKeyAndLine) {
  TempDir dir;
  const std::string config = dir.File("typo.yaml");
  ASSERT_TRUE(WriteTextFile(config, "edition: opensource\nfeature:\n  max_batch_size: 3\n"));
  StartupResult r = RunServerExpectingFailure({"--config", config});
  ASSERT_TRUE(FailedToStart(r));
  EXPECT_NE(r.stderr_text.find("feature"), std::string::npos) << r.stderr_text;
  EXPECT_TRUE(NamesLine(r.stderr_text, 2)) << r.stderr_text;
}

TEST(StartupIntegrationTest, ValueBelowMinimumFailsNamingKey) {
  TempDir dir;
  const std::string config = dir.File("small.yaml");
  ASSERT_TRUE(WriteTextFile(config, "limits:\n  max_request_bytes: 10\n"));
  StartupResult r = RunServerExpectingFailure({"--config", config});
  ASSERT_TRUE(FailedToStart(r));
  EXPECT_NE(r.stderr_text.find("max_request_bytes"), std::string::npos) << r.stderr_text;
}

TEST(StartupIntegrationTest, MissingConfigFileFails) {
  TempDir dir;
  StartupResult r = RunServerExpectingFailure({"--config", dir.File("absent.yaml")});
  ASSERT_TRUE(FailedToStart(r));
  EXPECT_NE(r.stderr_text.find("absent.yaml"), std::string::npos) << r.stderr_text;
}

TEST(StartupIntegrationTest, ShippedOpenSourceConfigStarts) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  EXPECT_GT(server.port(), 0);
  EXPECT_EQ(server.Terminate(), 0) << server.StderrText();
}

TEST(StartupIntegrationTest, HasTemporalOnBuildWithoutEngineRefusesToStart) {
#if PAPR_WITH_ENGINE
  GTEST_SKIP() << "papr-server was built with the engine (PAPR_WITH_ENGINE=1); the refusal "
                  "only exists in a -DPAPR_WITH_ENGINE=OFF build";
#else
  TempDir dir;
  const std::string config = dir.File("temporal.yaml");
  ASSERT_TRUE(WriteTextFile(config, MergeYaml(ReadTextFile(ConfigPath("opensource.yaml")),
                                              "features:\n  has_temporal: true\n")));
  StartupResult r = RunServerExpectingFailure({"--config", config});
  ASSERT_TRUE(FailedToStart(r));
  EXPECT_NE(r.stderr_text.find("has_temporal"), std::string::npos) << r.stderr_text;
  EXPECT_NE(r.stderr_text.find("engine"), std::string::npos) << r.stderr_text;

  // The shipped cloud config asks for the engine too.
  StartupResult cloud = RunServerExpectingFailure({"--config", ConfigPath("cloud.yaml")});
  ASSERT_TRUE(FailedToStart(cloud));
  EXPECT_NE(cloud.stderr_text.find("engine"), std::string::npos) << cloud.stderr_text;
#endif
}

// A postgres backend whose database cannot be reached refuses to start, saying so: it never
// falls back to RocksDB.
TEST(StartupIntegrationTest, PostgresBackendThatCannotConnectRefusesToStart) {
  TempDir dir;
  const std::string config = dir.File("postgres.yaml");
  ASSERT_TRUE(WriteTextFile(config, "storage:\n  backend: postgres\n  postgres:\n"
                                    "    url: postgresql://papr@127.0.0.1:1/papr\n"));
  StartupResult r = RunServerExpectingFailure({"--config", config});
  ASSERT_TRUE(FailedToStart(r));
  EXPECT_NE(r.stderr_text.find("127.0.0.1"), std::string::npos) << r.stderr_text;
  EXPECT_EQ(r.stderr_text.find("listening on"), std::string::npos) << r.stderr_text;
}

}  // namespace
}  // namespace papr::integration
