// The table of every config key. Loading (yaml_reader.cc), validation of minimums
// (validate.cc), AllKeys() and the README table all derive from Table() below; defaults come
// from the member initializers in config.h, so they cannot drift from the docs.
#include "config/internal/config_keys.h"

#include <array>
#include <string>
#include <string_view>
#include <type_traits>

#include "config/config.h"

namespace papr::config {
namespace internal {
namespace {

constexpr std::optional<int64_t> kAny = std::nullopt;

// PAPR_KEY(features.max_batch_size, 1, "doc"): path "features.max_batch_size", accessor
// returning config.features.max_batch_size, minimum 1.
// clang-format off
#define PAPR_KEY(member, min, doc) \
  KeySpec{#member, +[](Config& c) -> auto& { return c.member; }, min, doc}
// clang-format on

const std::vector<KeySpec>& Table() {
  static const std::vector<KeySpec> keys = {
      PAPR_KEY(edition, kAny, "`opensource` or `cloud`. Informational (shown by the server)."),
      // features: the edition switches; users know these names.
      PAPR_KEY(features.has_temporal, kAny,
               "Run batches as durable workflows on the embedded engine. Needs a build with "
               "`-DPAPR_WITH_ENGINE=ON`; a build without it refuses to start."),
      PAPR_KEY(features.max_batch_size, 1,
               "Largest batch accepted; a larger one gets 413 with upgrade details."),
      PAPR_KEY(features.max_document_bytes, 1,
               "Largest file `POST /v1/document` accepts, in bytes; larger: 413 with upgrade "
               "details. Its chunks count against `max_batch_size` like a batch's memories."),
      PAPR_KEY(features.max_concurrent_tasks, 1,
               "Workers of the OSS executor / memories in flight per durable batch."),
      PAPR_KEY(features.temporal_threshold, 0,
               "Batches with more memories than this run on the engine (when `has_temporal`)."),
      PAPR_KEY(features.max_batch_size_with_temporal, 1,
               "Batch limit when an open-source config turns the engine on."),
      PAPR_KEY(features.max_queued_batches, 1,
               "Queue of the OSS executor, in batches. A full queue answers 429."),
      // messaging: what users over the limit are told.
      PAPR_KEY(messaging.batch_limit_message, kAny, "Message of the 413 for a too-large batch."),
      PAPR_KEY(messaging.upgrade_url, kAny, "Upgrade link in the 413 body and the UI banner."),
      PAPR_KEY(messaging.cloud_benefits, kAny,
               "Benefits listed by `papr check-limits` and the UI banner."),
      // limits
      PAPR_KEY(limits.max_content_bytes, 1, "Largest `content` of one memory, in bytes."),
      PAPR_KEY(limits.max_request_bytes, 1024, "Largest HTTP request body, in bytes."),
      PAPR_KEY(limits.max_metadata_bytes, 2,
               "Largest `metadata` of one memory (minified), in bytes; more: 422 naming the "
               "field and the limit."),
      PAPR_KEY(limits.max_metadata_keys, 0, "Most object keys in one `metadata`, all levels."),
      PAPR_KEY(limits.max_metadata_depth, 1,
               "Deepest nesting inside `metadata` (the metadata object itself is level 1)."),
      PAPR_KEY(limits.max_metadata_string_bytes, 1,
               "Longest key or string value inside `metadata`, in bytes."),
      PAPR_KEY(limits.max_context_items, 0, "Most messages in one memory's `context`."),
      PAPR_KEY(limits.max_context_item_bytes, 1,
               "Largest `context` message (role + content), in bytes."),
      PAPR_KEY(limits.max_search_results, 1,
               "Largest `max_memories` of a search (more: 400)."),
      PAPR_KEY(limits.max_response_bytes, 65536,
               "A search answer stops adding memories once its body reaches this many bytes "
               "(at least one memory is always sent)."),
      PAPR_KEY(limits.max_open_batches_per_user, 0,
               "Open batches (memories not all settled) of one user on the engine; one more "
               "is answered 429 with `Retry-After`, naming the limit. 0: no limit."),
      PAPR_KEY(limits.max_open_batches, 0,
               "Open batches on the engine, all users together; beyond: 429. 0: no limit."),
      PAPR_KEY(limits.max_queued_memories_per_user, 0,
               "Memories of one user's open batches not yet processed, the new batch's "
               "included; beyond: 429. 0: no limit."),
      PAPR_KEY(limits.max_queued_memories, 0,
               "Memories of all open batches not yet processed; beyond: 429. 0: no limit."),
      // auth
      PAPR_KEY(auth.api_keys, kAny,
               "API keys: a list of `{key, user_id, plan}` (`plan` optional: a name in "
               "`plans`). `PAPR_API_KEY` adds one for user `default`. `user_id` must not "
               "contain `/` or NUL; the keys of one `user_id` share a plan."),
      PAPR_KEY(auth.default_plan, kAny,
               "The plan of keys that name none; empty: the limits of the keys below (the "
               "edition's)."),
      PAPR_KEY(plans, kAny,
               "Pricing tiers: a list of `{name, max_batch_size, max_open_batches, "
               "max_queued_memories, max_document_bytes, webhook_retry_schedule_seconds}`; a "
               "limit left out is the server's key of that name. A 413 names the caller's plan "
               "and the next one up (by `max_batch_size`)."),
      // webhooks
      PAPR_KEY(webhooks.allow_private_targets, kAny,
               "Allow webhook URLs that resolve to private or loopback addresses."),
      PAPR_KEY(webhooks.retry_schedule_seconds, 0,
               "Delay before each delivery attempt, in seconds; its length is the number of "
               "attempts."),
      PAPR_KEY(webhooks.timeout_seconds, 1, "Timeout of one delivery attempt."),
      // processing
      PAPR_KEY(processing.endpoint, kAny,
               "`http(s)://` URL called to process each memory; empty: no external call."),
      PAPR_KEY(processing.timeout_ms, 1, "Timeout of one processing call, in milliseconds."),
      // processing.retry: Temporal's RetryPolicy of a memory's processing, recorded in each
      // batch at submit (a batch's `retry_policy` overrides it, within these bounds).
      PAPR_KEY(processing.retry.initial_interval_ms, 0,
               "Delay before a memory's second processing attempt, in milliseconds."),
      PAPR_KEY(processing.retry.backoff_coefficient, 1,
               "Each later delay is this times the previous one."),
      PAPR_KEY(processing.retry.maximum_interval_ms, 0,
               "Cap on one delay, in milliseconds; 0: 100 x the initial interval."),
      PAPR_KEY(processing.retry.maximum_attempts, 1,
               "Attempts of a memory's processing, the first included; also the largest "
               "`retry_policy.maximum_attempts` a batch may ask for."),
      PAPR_KEY(processing.retry.non_retryable_error_types, kAny,
               "Error codes that end retries at once (a memory's processing error code, "
               "e.g. `422`)."),
      PAPR_KEY(processing.input_cache_bytes, 0,
               "Bytes of decoded batch inputs kept in memory for the memories being processed "
               "(slices of up to 256 memories, least recently used dropped first). Concurrent "
               "batches each use about two slices; a miss re-reads the chunk's stored blob."),
      // server
      PAPR_KEY(server.listen, kAny,
               "`HOST:PORT` to listen on; port 0 picks a free port. "
               "`PAPR_LISTEN` overrides it."),
      PAPR_KEY(server.io_threads, 1, "Threads running the HTTP io_context."),
      PAPR_KEY(server.handler_threads, 1, "Threads running request handlers (blocking work)."),
      PAPR_KEY(server.read_timeout_seconds, 1,
               "From its first byte, a request (head and body) must arrive whole within this, "
               "in seconds; else the connection is closed (slow clients)."),
      PAPR_KEY(server.idle_timeout_seconds, 1,
               "A connection waiting longer than this for a request's first byte (new, or "
               "kept alive after an answer) is closed."),
      PAPR_KEY(server.max_connections, 1,
               "Open HTTP connections at most; one more is answered 503 (`Retry-After: 1`) and "
               "closed, with a log line."),
      PAPR_KEY(server.ui_dir, kAny,
               "Directory of the web console's files, served at `/ui/`. Empty: `ui/` found next to "
               "the binary (`../share/papr/ui`, or the source tree's `ui/` for `build/bin`)."),
      PAPR_KEY(server.release_memory_interval_ms, 0,
               "How often the server checks whether it is idle (under a tenth of a core used "
               "in that time); once per idle spell it gives the heap memory a load freed back "
               "to the OS (`malloc_trim`), so RSS returns near its idle size. 0: never."),
      PAPR_KEY(server.malloc_arenas, 0,
               "glibc malloc arenas at most. Each keeps the memory freed in it, so glibc's "
               "default (8 per core) multiplies a load's peak RSS: 100 concurrent 10,000-memory "
               "batches peaked at 1.36 GB with it, 0.9 GB with 2. 0: glibc's default."),
      // storage
      PAPR_KEY(storage.data_dir, kAny, "Directory of the database. `PAPR_DATA_DIR` overrides it."),
      PAPR_KEY(storage.sync_writes, kAny,
               "fsync the log before acknowledging a write. Never turn off in production."),
      PAPR_KEY(storage.backend, kAny,
               "`rocksdb` (embedded, one node) or `postgres` (`storage.postgres.*`; engine-admin "
               "opens the same one). `PAPR_STORAGE_BACKEND` overrides it."),
      PAPR_KEY(storage.postgres.url, kAny,
               "libpq connection URL of the PostgreSQL 15 database, e.g. "
               "`postgresql://papr@127.0.0.1:5432/papr`. `PAPR_DATABASE_URL` overrides it."),
      PAPR_KEY(storage.postgres.pool_size, 1,
               "Connections to PostgreSQL: the most transactions in flight at once (concurrent "
               "commits share WAL flushes)."),
      PAPR_KEY(storage.postgres.statement_timeout_ms, 0,
               "`statement_timeout` of every statement, in ms (0: none); also the longest wait "
               "for a free connection."),
      PAPR_KEY(storage.rocksdb.block_cache_bytes, 1048576,
               "Bytes of RocksDB's block cache, shared by all tables (data, index and filter "
               "blocks read from disk)."),
      PAPR_KEY(storage.rocksdb.write_buffer_bytes, 1048576,
               "Bytes of all RocksDB memtables together: past it the largest is flushed to "
               "disk (and idle ones, so the log can be freed); a restart after a crash "
               "replays the log they cover."),
      // engine
      PAPR_KEY(engine.retention_hours, 0, "Closed workflow executions are deleted after this."),
      PAPR_KEY(engine.retention_sweep_seconds, 1,
               "How often closed executions past retention are deleted (also once at start). "
               "A sweep deletes at most 1,000 (a batch with its chunks), so a backlog goes "
               "in steps a second apart."),
      PAPR_KEY(engine.activity_workers, 1,
               "Threads running compute-bound activities (memory processing without "
               "`processing.endpoint`). About the core count: more only adds context switches."),
      PAPR_KEY(engine.io_activity_workers, 1,
               "Threads running activities that wait on the network: webhook deliveries, and "
               "memory processing when `processing.endpoint` is set."),
      // cluster
      PAPR_KEY(cluster.enabled, kAny,
               "Run as one node of a cluster over the PostgreSQL database (needs "
               "`storage.backend: postgres` and `features.has_temporal`)."),
      PAPR_KEY(cluster.node_id, kAny,
               "This node's name in the cluster; empty: generated once and kept in "
               "`<data_dir>/node_id`."),
      PAPR_KEY(cluster.advertise_address, kAny,
               "Where other nodes and operators reach this node; empty: `server.listen`."),
      PAPR_KEY(cluster.shards, 1,
               "Shards of the cluster's workflows (at most 4096). Fixed by the first node that "
               "runs on the database; a node configured otherwise refuses to start."),
      PAPR_KEY(cluster.heartbeat_interval_ms, 100,
               "How often a node heartbeats and renews its shard leases."),
      PAPR_KEY(cluster.lease_ttl_ms, 300,
               "A shard lease lasts this long unless renewed: a node that dies is taken over "
               "after it."),
      PAPR_KEY(cluster.inbox_poll_ms, 10,
               "How often a node applies the requests other nodes posted for its shards even "
               "without a notice (a notice wakes it at once), and reads the progress of batches "
               "other nodes run (for streams; `?wait=` is woken at once by the notice of the "
               "batch's end)."),
      // logging
      PAPR_KEY(logging.level, kAny, "`debug`, `info`, `warn` or `error`."),
  };
  return keys;
}

#undef PAPR_KEY

std::string Quote(const std::string& s) {
  return "\"" + s + "\"";
}

template <typename T, typename Fn>
std::string Join(const std::vector<T>& items, Fn fn) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i)
    out += (i ? ", " : "") + fn(items[i]);
  return out + "]";
}

//! Prints the default of a key as README text, read from a default-constructed Config.
struct DefaultPrinter {
  Config& defaults;
  std::string operator()(FieldRef<bool> f) { return f(defaults) ? "true" : "false"; }
  std::string operator()(FieldRef<int64_t> f) { return std::to_string(f(defaults)); }
  std::string operator()(FieldRef<std::string> f) { return Quote(f(defaults)); }
  std::string operator()(FieldRef<std::vector<int64_t>> f) {
    return Join(f(defaults), [](int64_t v) { return std::to_string(v); });
  }
  std::string operator()(FieldRef<std::vector<std::string>> f) { return Join(f(defaults), Quote); }
  std::string operator()(FieldRef<double> f) {
    std::string text = std::to_string(f(defaults));  // "2.000000" -> "2.0"
    while (text.size() > 1 && text.back() == '0' && text[text.size() - 2] != '.') text.pop_back();
    return text;
  }
  std::string operator()(FieldRef<std::vector<ApiKey>> f) {
    return Join(f(defaults), [](const ApiKey& k) { return "{user_id: " + k.user_id + "}"; });
  }
  std::string operator()(FieldRef<std::vector<Plan>> f) {
    return Join(f(defaults), [](const Plan& p) { return "{name: " + p.name + "}"; });
  }
};

std::string DefaultText(const Field& field) {
  Config defaults;
  return std::visit(DefaultPrinter{defaults}, field);
}

// Escapes a cell of a Markdown table.
std::string Cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

const std::vector<KeySpec>& KeySpecs() {
  return Table();
}

const KeySpec* FindKeySpec(std::string_view path) {
  for (const KeySpec& spec : Table()) {
    if (path == spec.path) return &spec;
  }
  return nullptr;
}

bool IsSection(std::string_view path) {
  for (const KeySpec& spec : Table()) {
    std::string_view key = spec.path;
    if (key.size() > path.size() && key.starts_with(path) && key[path.size()] == '.') return true;
  }
  return false;
}

const char* TypeName(const Field& field) {
  static constexpr std::array<const char*, 8> kNames = {
      "bool", "int",    "string",    "list<int>", "list<string>", "list<api_key>",
      "number", "list<plan>"};
  static_assert(kNames.size() == std::variant_size_v<Field>);
  return kNames[field.index()];
}

}  // namespace internal

const std::vector<KeyDoc>& AllKeys() {
  static const std::vector<KeyDoc> docs = [] {
    std::vector<KeyDoc> out;
    for (const internal::KeySpec& spec : internal::KeySpecs()) {
      std::string doc = spec.doc;
      if (spec.min.has_value()) doc += " Minimum: " + std::to_string(*spec.min) + ".";
      out.push_back({spec.path, internal::TypeName(spec.field), internal::DefaultText(spec.field),
                     std::move(doc)});
    }
    return out;
  }();
  return docs;
}

std::string KeysMarkdownTable() {
  std::string out = "| Key | Type | Default | Description |\n|---|---|---|---|\n";
  for (const KeyDoc& key : AllKeys()) {
    out += "| `" + key.path + "` | " + internal::Cell(key.type) + " | `" +
           internal::Cell(key.default_value) + "` | " + internal::Cell(key.doc) + " |\n";
  }
  return out;
}

}  // namespace papr::config
