#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace papr::config {

//! Edition switches from the product's edition strategy. Key names are fixed: users know them.
struct Features {
  // Run batches as durable workflows on the embedded engine. Requires a build with
  // PAPR_WITH_ENGINE=ON; a build without it refuses to start. Default: false.
  bool has_temporal = false;
  // Largest batch accepted; larger gets 413 with upgrade details. Default: 50.
  int64_t max_batch_size = 50;
  // Worker count of the OSS executor / memories in flight per durable batch. Default: 10.
  int64_t max_concurrent_tasks = 10;
  // Batches with more memories than this go to the engine (when has_temporal). Default: 0.
  int64_t temporal_threshold = 0;
  // OSS hybrid: the batch limit when an OSS config turns the engine on. Default: 10000.
  int64_t max_batch_size_with_temporal = 10000;
  // Bounded queue of the OSS executor, in batches. Full queue answers 429. Default: 100.
  int64_t max_queued_batches = 100;
};

struct Messaging {
  std::string batch_limit_message =
      "Batch size exceeds the open-source edition limit. Upgrade to Papr Cloud for batches of "
      "up to 10,000 memories with durable processing.";
  std::string upgrade_url = "https://papr.ai/cloud";
  std::vector<std::string> cloud_benefits;  // Shown by `papr check-limits` and the UI banner.
};

struct Limits {
  int64_t max_content_bytes = 15000;          // Per memory `content`. Default: 15000.
  int64_t max_request_bytes = 64 * 1024 * 1024;  // Whole HTTP body. Default: 64 MiB.
};

struct ApiKey {
  std::string key;
  std::string user_id;
};

struct Auth {
  std::vector<ApiKey> api_keys;
};

struct Webhooks {
  bool allow_private_targets = false;
  std::vector<int64_t> retry_schedule_seconds = {0,     5,     300,   1800,  7200,
                                                 18000, 36000, 50400, 72000, 86400};
  int64_t timeout_seconds = 15;
};

struct Processing {
  std::string endpoint;           // Empty: no external processing call.
  int64_t timeout_ms = 10000;     // Per call.
};

struct Server {
  std::string listen = "127.0.0.1:8080";
  int64_t io_threads = 2;              // Threads running the HTTP io_context.
  int64_t handler_threads = 16;        // Threads running request handlers (blocking work).
  int64_t read_timeout_seconds = 30;   // A request must arrive whole within this.
  int64_t idle_timeout_seconds = 60;   // Keep-alive connections idle longer are closed.
  std::string ui_dir;                  // Web console files; empty: found next to the binary.
};

//! The PostgreSQL backend (storage/postgres/, storage.backend: postgres).
struct StoragePostgres {
  std::string url;                      // libpq URL; PAPR_DATABASE_URL overrides it.
  int64_t pool_size = 8;                // Connections: transactions in flight at once.
  int64_t statement_timeout_ms = 10000; // Server-side statement_timeout of every statement.
};

struct Storage {
  std::string data_dir = "./data";
  bool sync_writes = true;  // fsync the WAL before acknowledging. Never turn off in production.
  std::string backend = "rocksdb";  // rocksdb | postgres
  StoragePostgres postgres;
};

struct Engine {
  int64_t retention_hours = 168;        // Closed executions are deleted after this.
  int64_t activity_workers = 4;         // Threads running compute activities.
  int64_t io_activity_workers = 16;     // Threads running activities that wait on the network.
};

struct Logging {
  std::string level = "info";  // debug | info | warn | error
};

//! The whole typed configuration. Every key is declared once in config_keys.cc.
struct Config {
  std::string edition = "opensource";  // `edition:` key: opensource | cloud (informational)
  Features features;
  Messaging messaging;
  Limits limits;
  Auth auth;
  Webhooks webhooks;
  Processing processing;
  Server server;
  Storage storage;
  Engine engine;
  Logging logging;
};

// Parses YAML text. Unknown keys and wrong types are errors naming the key path and line.
// `source_name` is used in messages (e.g. the file path).
Result<Config> LoadConfigFromString(const std::string& yaml_text,
                                    const std::string& source_name = "<string>");
Result<Config> LoadConfigFromFile(const std::string& path);

// Applies PAPR_DATA_DIR, PAPR_LISTEN, PAPR_DATABASE_URL, PAPR_API_KEY (user `default`) from
// `getenv`.
// (PAPR_CONFIG is handled by the caller, which picks the file.)
void ApplyEnvOverrides(Config& config,
                       const std::function<const char*(const char*)>& getenv_fn);

// Checks cross-field rules: has_temporal on a build without the engine, limits > 0, ...
Status Validate(const Config& config, bool built_with_engine);

// FailedPrecondition while the configured storage.backend is not wired into the server and
// tools yet (postgres: storage::PostgresStore exists and is tested, its callers not migrated).
// Never silently falls back to another backend.
Status CheckBackendWired(const Config& config);

//! One row per config key: the single source for loading, validation and the README table.
struct KeyDoc {
  std::string path;           // e.g. "features.max_batch_size"
  std::string type;           // bool | int | string | list<int> | list<string> | list<api_key>
  std::string default_value;  // as shown in the README
  std::string doc;
};
const std::vector<KeyDoc>& AllKeys();
// Markdown table of AllKeys() for the README (`papr-server --print-config-keys` prints it;
// a config test checks the README holds it verbatim).
std::string KeysMarkdownTable();

}  // namespace papr::config
