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
  // Largest document file accepted by POST /v1/document (a larger one: 413). Default: 1 MiB.
  int64_t max_document_bytes = 1024 * 1024;
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
  // Per memory `metadata` and `context` (api/memory_limits.h); over a limit: 422.
  int64_t max_metadata_bytes = 16384;        // minified metadata. Default: 16 KiB.
  int64_t max_metadata_keys = 128;           // keys at every level. Default: 128.
  int64_t max_metadata_depth = 5;            // nesting, metadata itself is 1. Default: 5.
  int64_t max_metadata_string_bytes = 4096;  // any key or string value. Default: 4096.
  int64_t max_context_items = 50;            // context messages. Default: 50.
  int64_t max_context_item_bytes = 8192;     // role + content of one message. Default: 8192.
  // Search answers: at most this many memories (max_memories above it: 400). Default: 100.
  int64_t max_search_results = 100;
  // A search answer stops adding memories once its body reaches this. Default: 8 MiB.
  int64_t max_response_bytes = 8 * 1024 * 1024;
  // Queued work of the durable (cloud) edition: open (not yet settled) batches and their
  // memories, per user and in all; beyond: 429 + Retry-After. 0: no limit.
  int64_t max_open_batches_per_user = 100;
  int64_t max_open_batches = 1000;
  int64_t max_queued_memories_per_user = 200000;
  int64_t max_queued_memories = 1000000;
};

struct ApiKey {
  std::string key;
  std::string user_id;
  std::string plan;  // a name in `plans`; empty: auth.default_plan
};

struct Auth {
  std::vector<ApiKey> api_keys;
  std::string default_plan;  // the plan of keys that name none; empty: the edition's limits
};

//! A pricing tier (`plans:`): the limits of the keys on it. A limit left 0 (or an empty
//! schedule) is the server's own key of that name (config/plans.h).
struct Plan {
  std::string name;
  int64_t max_batch_size = 0;           // features.max_batch_size
  int64_t max_open_batches = 0;         // limits.max_open_batches_per_user
  int64_t max_queued_memories = 0;      // limits.max_queued_memories_per_user
  int64_t max_document_bytes = 0;       // features.max_document_bytes
  std::vector<int64_t> webhook_retry_schedule_seconds;  // webhooks.retry_schedule_seconds
};

struct Webhooks {
  bool allow_private_targets = false;
  std::vector<int64_t> retry_schedule_seconds = {0,     5,     300,   1800,  7200,
                                                 18000, 36000, 50400, 72000, 86400};
  int64_t timeout_seconds = 15;
};

//! Temporal's RetryPolicy for one memory's processing (the batch's default; see
//! config_keys.cc).
struct ProcessingRetry {
  int64_t initial_interval_ms = 200;
  double backoff_coefficient = 2.0;
  int64_t maximum_interval_ms = 10000;
  int64_t maximum_attempts = 5;  // also the cap of a batch's retry_policy.maximum_attempts
  std::vector<std::string> non_retryable_error_types = {"422"};
};

struct Processing {
  std::string endpoint;           // Empty: no external processing call.
  int64_t timeout_ms = 10000;     // Per call.
  ProcessingRetry retry;
  // Decoded inputs of batches in flight kept for their memory activities. Default: 64 MiB.
  int64_t input_cache_bytes = 64 * 1024 * 1024;
};

struct Server {
  std::string listen = "127.0.0.1:8080";
  int64_t io_threads = 2;              // Threads running the HTTP io_context.
  int64_t handler_threads = 16;        // Threads running request handlers (blocking work).
  int64_t read_timeout_seconds = 30;   // From its first byte, a request must arrive whole within this.
  int64_t idle_timeout_seconds = 60;   // Connections waiting longer for a request are closed.
  int64_t max_connections = 1000;      // Open connections; beyond: 503 and close.
  std::string ui_dir;                  // Web console files; empty: found next to the binary.
  // Idle checks that give freed heap memory back to the OS (0: never). Default: 1000 ms.
  int64_t release_memory_interval_ms = 1000;
  // glibc malloc arenas at most (0: glibc's 8 per core). Default: 2.
  int64_t malloc_arenas = 2;
};

//! The PostgreSQL backend (storage/postgres/, storage.backend: postgres).
struct StoragePostgres {
  std::string url;                      // libpq URL; PAPR_DATABASE_URL overrides it.
  int64_t pool_size = 8;                // Connections: transactions in flight at once.
  int64_t statement_timeout_ms = 10000; // Server-side statement_timeout of every statement.
};

//! The embedded RocksDB backend's memory (storage.rocksdb.*), in bytes.
struct StorageRocksdb {
  int64_t block_cache_bytes = 64 * 1024 * 1024;    // Block cache shared by all tables.
  int64_t write_buffer_bytes = 128 * 1024 * 1024;  // All memtables together.
};

struct Storage {
  std::string data_dir = "./data";
  bool sync_writes = true;  // fsync the WAL before acknowledging. Never turn off in production.
  std::string backend = "rocksdb";  // rocksdb | postgres
  StoragePostgres postgres;
  StorageRocksdb rocksdb;
};

struct Engine {
  int64_t retention_hours = 168;        // Closed executions are deleted after this.
  int64_t retention_sweep_seconds = 600;  // How often the retention sweep runs.
  int64_t activity_workers = 4;         // Threads running compute activities.
  int64_t io_activity_workers = 16;     // Threads running activities that wait on the network.
};

//! Cluster mode (issue 15, README "Cluster mode"): several nodes over one PostgreSQL database.
struct Cluster {
  bool enabled = false;           // Needs storage.backend postgres and features.has_temporal.
  std::string node_id;            // Empty: generated once and kept in <data_dir>/node_id.
  std::string advertise_address;  // Where others reach this node; empty: server.listen.
  int64_t shards = 64;            // Fixed by the first node of the database.
  int64_t heartbeat_interval_ms = 2000;  // Heartbeat and lease renewal period.
  int64_t lease_ttl_ms = 6000;    // A silent node's shards are taken over after this.
  int64_t inbox_poll_ms = 250;    // How often posted requests and remote executions are read.
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
  std::vector<Plan> plans;
  Webhooks webhooks;
  Processing processing;
  Server server;
  Storage storage;
  Engine engine;
  Cluster cluster;
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
