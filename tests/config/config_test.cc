#include "config/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace papr::config {
namespace {

namespace fs = std::filesystem;

// The repository root: $PAPR_SOURCE_DIR, else the first directory above the working
// directory that holds config/cloud.yaml.
fs::path SourceDir() {
  if (const char* dir = std::getenv("PAPR_SOURCE_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  for (fs::path p = fs::current_path(); !p.empty(); p = p.parent_path()) {
    if (fs::exists(p / "config" / "cloud.yaml")) return p;
    if (p == p.parent_path()) break;
  }
  return {};
}

Config LoadShipped(const std::string& name) {
  fs::path root = SourceDir();
  EXPECT_FALSE(root.empty()) << "config/cloud.yaml not found above " << fs::current_path();
  Result<Config> config = LoadConfigFromFile((root / "config" / name).string());
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return config.ok() ? config.value() : Config{};
}

Status LoadError(const std::string& yaml) {
  Result<Config> config = LoadConfigFromString(yaml, "test.yaml");
  return config.ok() ? Status::Ok() : config.status();
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(ConfigTest, OpenSourceYamlHasDocumentedValues) {
  Config c = LoadShipped("opensource.yaml");
  EXPECT_EQ(c.edition, "opensource");
  EXPECT_FALSE(c.features.has_temporal);
  EXPECT_EQ(c.features.max_batch_size, 50);
  EXPECT_EQ(c.features.max_concurrent_tasks, 10);
  EXPECT_EQ(c.features.temporal_threshold, 0);
  EXPECT_EQ(c.features.max_batch_size_with_temporal, 10000);
  EXPECT_TRUE(Contains(c.messaging.batch_limit_message, "open-source limit of 50 memories"));
  EXPECT_TRUE(Contains(c.messaging.batch_limit_message, "10,000 memories durably"));
  EXPECT_EQ(c.messaging.batch_limit_message.find('\n'), std::string::npos);
  EXPECT_EQ(c.messaging.upgrade_url, "https://papr.ai/cloud");
  EXPECT_GE(c.messaging.cloud_benefits.size(), 3u);
  EXPECT_LE(c.messaging.cloud_benefits.size(), 4u);
  EXPECT_EQ(c.limits.max_content_bytes, 15000);
  EXPECT_EQ(c.limits.max_request_bytes, 67108864);
  EXPECT_TRUE(c.auth.api_keys.empty());
  EXPECT_FALSE(c.webhooks.allow_private_targets);
  EXPECT_EQ(c.processing.endpoint, "");
  EXPECT_EQ(c.server.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.storage.data_dir, "./data");
  EXPECT_TRUE(Validate(c, /*built_with_engine=*/false).ok());
  EXPECT_TRUE(Validate(c, /*built_with_engine=*/true).ok());
}

TEST(ConfigTest, CloudYamlHasDocumentedValues) {
  Config c = LoadShipped("cloud.yaml");
  EXPECT_EQ(c.edition, "cloud");
  EXPECT_TRUE(c.features.has_temporal);
  EXPECT_EQ(c.features.max_batch_size, 10000);
  EXPECT_EQ(c.features.max_concurrent_tasks, 100);
  EXPECT_EQ(c.features.temporal_threshold, 0);
  EXPECT_EQ(c.limits.max_content_bytes, 15000);
  EXPECT_EQ(c.server.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.webhooks.retry_schedule_seconds, Webhooks{}.retry_schedule_seconds);
  EXPECT_TRUE(Validate(c, /*built_with_engine=*/true).ok());
  Status s = Validate(c, /*built_with_engine=*/false);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
}

TEST(ConfigTest, EmptyTextGivesDefaults) {
  for (const char* text : {"", "# nothing\n", "{}", "features:\n"}) {
    Result<Config> c = LoadConfigFromString(text);
    ASSERT_TRUE(c.ok()) << text << ": " << c.status().ToString();
    EXPECT_EQ(c->features.max_batch_size, 50);
    EXPECT_EQ(c->server.listen, "127.0.0.1:8080");
    EXPECT_EQ(c->webhooks.retry_schedule_seconds.size(), 10u);
    EXPECT_TRUE(Validate(*c, false).ok());
  }
}

TEST(ConfigTest, EveryKeyIsRead) {
  const char* yaml = R"(
edition: cloud
features: {has_temporal: yes, max_batch_size: 7, max_concurrent_tasks: 8,
           temporal_threshold: 9, max_batch_size_with_temporal: 11, max_queued_batches: 12}
messaging: {batch_limit_message: m, upgrade_url: u, cloud_benefits: [a, b]}
limits: {max_content_bytes: 13, max_request_bytes: 2048}
auth:
  api_keys:
    - {key: k1, user_id: alice}
    - key: k2
      user_id: bob
webhooks: {allow_private_targets: true, retry_schedule_seconds: [1, 2], timeout_seconds: 14}
processing: {endpoint: "https://p.example/x", timeout_ms: 15}
server: {listen: "[::1]:0", io_threads: 3, handler_threads: 4, read_timeout_seconds: 5,
         idle_timeout_seconds: 6}
storage: {data_dir: /d, sync_writes: false}
engine: {retention_hours: 17, activity_workers: 18}
logging: {level: debug}
)";
  Result<Config> r = LoadConfigFromString(yaml);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Config& c = *r;
  EXPECT_EQ(c.edition, "cloud");
  EXPECT_TRUE(c.features.has_temporal);
  EXPECT_EQ(c.features.max_batch_size, 7);
  EXPECT_EQ(c.features.max_concurrent_tasks, 8);
  EXPECT_EQ(c.features.temporal_threshold, 9);
  EXPECT_EQ(c.features.max_batch_size_with_temporal, 11);
  EXPECT_EQ(c.features.max_queued_batches, 12);
  EXPECT_EQ(c.messaging.batch_limit_message, "m");
  EXPECT_EQ(c.messaging.upgrade_url, "u");
  EXPECT_EQ(c.messaging.cloud_benefits, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.limits.max_content_bytes, 13);
  EXPECT_EQ(c.limits.max_request_bytes, 2048);
  ASSERT_EQ(c.auth.api_keys.size(), 2u);
  EXPECT_EQ(c.auth.api_keys[0].key, "k1");
  EXPECT_EQ(c.auth.api_keys[0].user_id, "alice");
  EXPECT_EQ(c.auth.api_keys[1].key, "k2");
  EXPECT_EQ(c.auth.api_keys[1].user_id, "bob");
  EXPECT_TRUE(c.webhooks.allow_private_targets);
  EXPECT_EQ(c.webhooks.retry_schedule_seconds, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(c.webhooks.timeout_seconds, 14);
  EXPECT_EQ(c.processing.endpoint, "https://p.example/x");
  EXPECT_EQ(c.processing.timeout_ms, 15);
  EXPECT_EQ(c.server.listen, "[::1]:0");
  EXPECT_EQ(c.server.io_threads, 3);
  EXPECT_EQ(c.server.handler_threads, 4);
  EXPECT_EQ(c.server.read_timeout_seconds, 5);
  EXPECT_EQ(c.server.idle_timeout_seconds, 6);
  EXPECT_EQ(c.storage.data_dir, "/d");
  EXPECT_FALSE(c.storage.sync_writes);
  EXPECT_EQ(c.engine.retention_hours, 17);
  EXPECT_EQ(c.engine.activity_workers, 18);
  EXPECT_EQ(c.logging.level, "debug");
  EXPECT_TRUE(Validate(c, true).ok()) << Validate(c, true).ToString();
}

TEST(ConfigTest, UnknownKeyNamesPathAndLine) {
  Status s = LoadError("edition: cloud\nfeatures:\n  max_batch_size: 5\n  max_batch_sizee: 6\n");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "test.yaml:4: unknown key 'features.max_batch_sizee'");

  s = LoadError("\nbogus: 1\n");
  EXPECT_EQ(s.message(), "test.yaml:2: unknown key 'bogus'");
  s = LoadError("auth:\n  api_keys:\n    - {key: a, user_id: b, role: x}\n");
  EXPECT_TRUE(Contains(s.message(), "test.yaml:3: unknown key 'auth.api_keys[0].role'"))
      << s.message();
  s = LoadError("features.max_batch_size: 5\n");
  EXPECT_TRUE(Contains(s.message(), "unknown key 'features.max_batch_size'")) << s.message();
}

TEST(ConfigTest, UnknownKeyInFileNamesFilePath) {
  fs::path path = fs::temp_directory_path() / "papr_config_test_unknown.yaml";
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("server:\n  listen: 127.0.0.1:0\n  lisen: x\n", f);
    std::fclose(f);
  }
  Result<Config> c = LoadConfigFromFile(path.string());
  fs::remove(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), path.string() + ":3: unknown key 'server.lisen'");
}

TEST(ConfigTest, MissingFileNamesPath) {
  Result<Config> c = LoadConfigFromFile("/nonexistent/papr/cloud.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(c.status().message(), "/nonexistent/papr/cloud.yaml"));
}

TEST(ConfigTest, WrongTypeNamesKeyLineAndType) {
  struct Case {
    const char* yaml;
    const char* expected;
  };
  const Case cases[] = {
      {"features:\n  max_batch_size: lots\n",
       "test.yaml:2: key 'features.max_batch_size' expects int, got 'lots'"},
      {"features:\n  max_batch_size: \"50\"\n", "key 'features.max_batch_size' expects int"},
      {"features:\n  max_batch_size: 1.5\n", "key 'features.max_batch_size' expects int"},
      {"features:\n  has_temporal: maybe\n",
       "test.yaml:2: key 'features.has_temporal' expects bool"},
      {"storage:\n  sync_writes: [true]\n", "key 'storage.sync_writes' expects bool, got a list"},
      {"edition: [a]\n", "test.yaml:1: key 'edition' expects string, got a list"},
      {"webhooks:\n  retry_schedule_seconds: [1,\n    x]\n",
       "test.yaml:3: key 'webhooks.retry_schedule_seconds[1]' expects int, got 'x'"},
      {"webhooks:\n  retry_schedule_seconds: 5\n",
       "key 'webhooks.retry_schedule_seconds' expects list<int>"},
      {"features: 5\n", "test.yaml:1: section 'features' must be a mapping"},
      {"- a\n- b\n", "top level must be a mapping"},
      {"auth:\n  api_keys:\n    - {key: a}\n",
       "test.yaml:3: 'auth.api_keys[0]' is missing 'user_id'"},
      {"auth:\n  api_keys:\n    - {key: a, user_id: \"x/y\"}\n",
       "auth.api_keys[0].user_id must not contain '/'"},
      {"auth:\n  api_keys:\n    - {key: a, user_id: \"x\\0y\"}\n",
       "auth.api_keys[0].user_id must not contain NUL"},
      {"auth:\n  api_keys:\n    - {key: \"\", user_id: u}\n",
       "auth.api_keys[0].key must not be empty"},
      {"logging:\n  level: info\n  level: debug\n", "test.yaml:3: duplicate key 'logging.level'"},
      {"auth:\n  api_keys:\n    - {key: a, key: b, user_id: u}\n",
       "test.yaml:3: duplicate key 'auth.api_keys[0].key'"},
      {"features:\n  max_batch_size: \"50\"\n", "got the quoted string \"50\""},
      {"features: {max_batch_size: [1, 2}\n", "test.yaml:1: invalid YAML"},
  };
  for (const Case& c : cases) {
    Status s = LoadError(c.yaml);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.yaml;
    EXPECT_TRUE(Contains(s.message(), c.expected)) << c.yaml << "\n got: " << s.message();
  }
}

TEST(ConfigTest, YamlBoolSpellingsAccepted) {
  Result<Config> c =
      LoadConfigFromString("features:\n  has_temporal: yes\nstorage:\n  sync_writes: off\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->features.has_temporal);
  EXPECT_FALSE(c->storage.sync_writes);
}

TEST(ConfigTest, EnvOverrides) {
  std::map<std::string, std::string> env = {
      {"PAPR_DATA_DIR", "/var/papr"}, {"PAPR_LISTEN", "0.0.0.0:9000"}, {"PAPR_API_KEY", "s3cret"}};
  auto getenv_fn = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  Config c;
  ApplyEnvOverrides(c, getenv_fn);
  EXPECT_EQ(c.storage.data_dir, "/var/papr");
  EXPECT_EQ(c.server.listen, "0.0.0.0:9000");
  ASSERT_EQ(c.auth.api_keys.size(), 1u);
  EXPECT_EQ(c.auth.api_keys[0].key, "s3cret");
  EXPECT_EQ(c.auth.api_keys[0].user_id, "default");

  ApplyEnvOverrides(c, getenv_fn);  // The same key is not added twice.
  EXPECT_EQ(c.auth.api_keys.size(), 1u);

  env = {{"PAPR_DATA_DIR", ""}, {"PAPR_LISTEN", ""}, {"PAPR_API_KEY", ""}};
  Config d;
  ApplyEnvOverrides(d, getenv_fn);
  EXPECT_EQ(d.storage.data_dir, "./data");
  EXPECT_EQ(d.server.listen, "127.0.0.1:8080");
  EXPECT_TRUE(d.auth.api_keys.empty());
}

TEST(ConfigTest, ValidateRejectsTemporalWithoutEngine) {
  Config c;
  c.features.has_temporal = true;
  Status s = Validate(c, /*built_with_engine=*/false);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "features.has_temporal is true but this build has no workflow engine (built with "
            "-DPAPR_WITH_ENGINE=OFF); use config/opensource.yaml or a build with the engine");
  EXPECT_TRUE(Validate(c, /*built_with_engine=*/true).ok());
}

TEST(ConfigTest, ValidateListen) {
  for (const char* good : {"127.0.0.1:8080", "0.0.0.0:0", "localhost:65535", "[::1]:80"}) {
    Config c;
    c.server.listen = good;
    EXPECT_TRUE(Validate(c, false).ok()) << good;
  }
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", ":8080", "127.0.0.1:65536", "host:80x",
                          "::1:80", "127.0.0.1:-1", "[::1]:99999", ""}) {
    Config c;
    c.server.listen = bad;
    Status s = Validate(c, false);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_TRUE(Contains(s.message(), "server.listen")) << bad << ": " << s.message();
  }
}

TEST(ConfigTest, ValidateNamesEachBadKey) {
  struct Case {
    void (*mutate)(Config&);
    const char* key;
  };
  const Case cases[] = {
      {[](Config& c) { c.features.max_batch_size = 0; }, "features.max_batch_size must be >= 1"},
      {[](Config& c) { c.features.max_concurrent_tasks = 0; }, "features.max_concurrent_tasks"},
      {[](Config& c) { c.features.temporal_threshold = -1; }, "features.temporal_threshold"},
      {[](Config& c) { c.limits.max_content_bytes = 0; }, "limits.max_content_bytes"},
      {[](Config& c) { c.limits.max_request_bytes = 1023; }, "limits.max_request_bytes"},
      {[](Config& c) { c.server.io_threads = 0; }, "server.io_threads"},
      {[](Config& c) { c.server.handler_threads = 0; }, "server.handler_threads"},
      {[](Config& c) { c.server.read_timeout_seconds = 0; }, "server.read_timeout_seconds"},
      {[](Config& c) { c.server.idle_timeout_seconds = 0; }, "server.idle_timeout_seconds"},
      {[](Config& c) { c.webhooks.timeout_seconds = 0; }, "webhooks.timeout_seconds"},
      {[](Config& c) { c.processing.timeout_ms = 0; }, "processing.timeout_ms"},
      {[](Config& c) { c.webhooks.retry_schedule_seconds.clear(); },
       "webhooks.retry_schedule_seconds must not be empty"},
      {[](Config& c) {
         c.webhooks.retry_schedule_seconds = {0, -5};
       },
       "webhooks.retry_schedule_seconds"},
      {[](Config& c) { c.logging.level = "verbose"; }, "logging.level"},
      {[](Config& c) { c.processing.endpoint = "ftp://x"; }, "processing.endpoint"},
      {[](Config& c) { c.processing.endpoint = "http://"; }, "processing.endpoint"},
      {[](Config& c) { c.edition = "enterprise"; }, "edition"},
      {[](Config& c) {
         c.auth.api_keys = {{"k", "a"}, {"k", "b"}};
       },
       "auth.api_keys[1].key is a duplicate"},
      {[](Config& c) {
         c.auth.api_keys = {{"k", "a/b"}};
       },
       "auth.api_keys[0].user_id"},
  };
  for (const Case& c : cases) {
    Config config;
    c.mutate(config);
    Status s = Validate(config, true);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.key;
    EXPECT_TRUE(Contains(s.message(), c.key)) << c.key << ": " << s.message();
  }
  Config fine;
  fine.processing.endpoint = "http://127.0.0.1:9000/process";
  fine.auth.api_keys = {{"k1", "a"}, {"k2", "a"}};
  EXPECT_TRUE(Validate(fine, false).ok()) << Validate(fine, false).ToString();
}

TEST(ConfigTest, DuplicateKeyMessageDoesNotLeakSecret) {
  Config c;
  c.auth.api_keys = {{"topsecret", "a"}, {"topsecret", "b"}};
  EXPECT_FALSE(Contains(Validate(c, false).message(), "topsecret"));
}

const std::set<std::string>& ExpectedKeys() {
  static const std::set<std::string> keys = {
      "edition",
      "features.has_temporal",
      "features.max_batch_size",
      "features.max_concurrent_tasks",
      "features.temporal_threshold",
      "features.max_batch_size_with_temporal",
      "features.max_queued_batches",
      "features.max_document_bytes",
      "auth.default_plan",
      "plans",
      "messaging.batch_limit_message",
      "messaging.upgrade_url",
      "messaging.cloud_benefits",
      "limits.max_content_bytes",
      "limits.max_request_bytes",
      "limits.max_metadata_bytes",
      "limits.max_metadata_keys",
      "limits.max_metadata_depth",
      "limits.max_metadata_string_bytes",
      "limits.max_context_items",
      "limits.max_context_item_bytes",
      "limits.max_search_results",
      "limits.max_response_bytes",
      "limits.max_open_batches_per_user",
      "limits.max_open_batches",
      "limits.max_queued_memories_per_user",
      "limits.max_queued_memories",
      "auth.api_keys",
      "webhooks.allow_private_targets",
      "webhooks.retry_schedule_seconds",
      "webhooks.timeout_seconds",
      "processing.endpoint",
      "processing.timeout_ms",
      "processing.retry.initial_interval_ms",
      "processing.retry.backoff_coefficient",
      "processing.retry.maximum_interval_ms",
      "processing.retry.maximum_attempts",
      "processing.retry.non_retryable_error_types",
      "processing.input_cache_bytes",
      "server.listen",
      "server.io_threads",
      "server.handler_threads",
      "server.read_timeout_seconds",
      "server.idle_timeout_seconds",
      "server.max_connections",
      "server.ui_dir",
      "server.release_memory_interval_ms",
      "server.malloc_arenas",
      "storage.data_dir",
      "storage.sync_writes",
      "storage.backend",
      "storage.postgres.url",
      "storage.postgres.pool_size",
      "storage.postgres.statement_timeout_ms",
      "storage.rocksdb.block_cache_bytes",
      "storage.rocksdb.write_buffer_bytes",
      "engine.retention_hours",
      "engine.retention_sweep_seconds",
      "engine.activity_workers",
      "engine.io_activity_workers",
      "cluster.enabled",
      "cluster.node_id",
      "cluster.advertise_address",
      "cluster.shards",
      "cluster.heartbeat_interval_ms",
      "cluster.lease_ttl_ms",
      "cluster.inbox_poll_ms",
      "logging.level",
  };
  return keys;
}

TEST(ConfigTest, AllKeysListsEveryKeyOnce) {
  std::set<std::string> seen;
  for (const KeyDoc& key : AllKeys()) {
    EXPECT_TRUE(seen.insert(key.path).second) << "duplicate " << key.path;
    EXPECT_FALSE(key.type.empty()) << key.path;
    EXPECT_FALSE(key.default_value.empty()) << key.path;
    EXPECT_FALSE(key.doc.empty()) << key.path;
  }
  EXPECT_EQ(seen, ExpectedKeys());
  std::map<std::string, KeyDoc> by_path;
  for (const KeyDoc& key : AllKeys())
    by_path[key.path] = key;
  EXPECT_EQ(by_path["features.max_batch_size"].type, "int");
  EXPECT_EQ(by_path["features.max_batch_size"].default_value, "50");
  EXPECT_EQ(by_path["features.has_temporal"].type, "bool");
  EXPECT_EQ(by_path["features.has_temporal"].default_value, "false");
  EXPECT_EQ(by_path["storage.data_dir"].default_value, "\"./data\"");
  EXPECT_EQ(by_path["auth.api_keys"].type, "list<api_key>");
  EXPECT_EQ(by_path["messaging.cloud_benefits"].type, "list<string>");
  EXPECT_EQ(by_path["webhooks.retry_schedule_seconds"].type, "list<int>");
  EXPECT_EQ(by_path["webhooks.retry_schedule_seconds"].default_value,
            "[0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]");
}

TEST(ConfigTest, MarkdownTableHasARowPerKey) {
  const std::string table = KeysMarkdownTable();
  size_t rows = 0;
  for (size_t pos = 0; (pos = table.find("\n| `", pos)) != std::string::npos; ++pos)
    ++rows;
  EXPECT_EQ(rows, ExpectedKeys().size());
  EXPECT_EQ(table.rfind("| Key | Type | Default | Description |", 0), 0u);
  for (const std::string& key : ExpectedKeys()) {
    EXPECT_TRUE(Contains(table, "| `" + key + "` |")) << key;
  }
}

// processing.retry: Temporal's RetryPolicy fields, with the defaults batches always had; the
// coefficient is a number (not an int), at least 1.
TEST(ConfigTest, ProcessingRetryPolicyKeys) {
  Config defaults;
  EXPECT_EQ(defaults.processing.retry.initial_interval_ms, 200);
  EXPECT_EQ(defaults.processing.retry.backoff_coefficient, 2.0);
  EXPECT_EQ(defaults.processing.retry.maximum_interval_ms, 10000);
  EXPECT_EQ(defaults.processing.retry.maximum_attempts, 5);
  EXPECT_EQ(defaults.processing.retry.non_retryable_error_types, std::vector<std::string>{"422"});
  auto c = LoadConfigFromString(
      "processing:\n  retry:\n    initial_interval_ms: 50\n    backoff_coefficient: 1.5\n"
      "    maximum_interval_ms: 400\n    maximum_attempts: 9\n"
      "    non_retryable_error_types: [\"422\", \"404\"]\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->processing.retry.initial_interval_ms, 50);
  EXPECT_EQ(c->processing.retry.backoff_coefficient, 1.5);
  EXPECT_EQ(c->processing.retry.maximum_interval_ms, 400);
  EXPECT_EQ(c->processing.retry.maximum_attempts, 9);
  EXPECT_EQ(c->processing.retry.non_retryable_error_types,
            (std::vector<std::string>{"422", "404"}));
  auto text = LoadConfigFromString("processing:\n  retry:\n    backoff_coefficient: fast\n");
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.status().message().find("processing.retry.backoff_coefficient"), std::string::npos)
      << text.status().ToString();
  for (const char* bad : {"backoff_coefficient: 0.5", "maximum_attempts: 0"}) {
    auto loaded = LoadConfigFromString(std::string("processing:\n  retry:\n    ") + bad + "\n");
    Status s = loaded.ok() ? Validate(*loaded, true) : loaded.status();
    EXPECT_FALSE(s.ok()) << bad;
  }
  std::map<std::string, KeyDoc> by_path;
  for (const KeyDoc& key : AllKeys()) by_path[key.path] = key;
  EXPECT_EQ(by_path["processing.retry.backoff_coefficient"].type, "number");
  EXPECT_EQ(by_path["processing.retry.backoff_coefficient"].default_value, "2.0");
}

// Each key of the table loads from YAML: a key missing from the loader would be "unknown".
TEST(ConfigTest, EveryDocumentedKeyIsLoadable) {
  for (const KeyDoc& key : AllKeys()) {
    std::string yaml;
    std::string indent;
    std::string path = key.path;
    for (size_t dot; (dot = path.find('.')) != std::string::npos; path = path.substr(dot + 1)) {
      yaml += indent + path.substr(0, dot) + ":\n";
      indent += "  ";
    }
    yaml += indent + path + ": " + (key.type == "list<api_key>" ? "[]" : key.default_value) + "\n";
    Result<Config> c = LoadConfigFromString(yaml);
    EXPECT_TRUE(c.ok()) << yaml << c.status().ToString();
  }
}

// The README's configuration table is this table, verbatim: a key added or changed without
// regenerating it (`papr-server --print-config-keys`) fails here.
TEST(ConfigTest, ReadmeConfigurationTableIsCurrent) {
  std::ifstream in(std::string(PAPR_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(in.good()) << "cannot read README.md under " << PAPR_SOURCE_DIR;
  std::stringstream readme;
  readme << in.rdbuf();
  EXPECT_TRUE(Contains(readme.str(), KeysMarkdownTable()))
      << "README.md's configuration table is stale; replace it with the output of "
         "`papr-server --print-config-keys`:\n"
      << KeysMarkdownTable();
}

}  // namespace
}  // namespace papr::config
