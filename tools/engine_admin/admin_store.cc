#include "tools/engine_admin/admin_store.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "storage/open/open_database.h"
#include "storage/postgres/pg_sessions.h"

namespace papr::engine_admin {
namespace {

std::string DbPath(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "db").string();
}

Result<std::string> MakeSecondaryDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/engine-admin-secondary-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    return Status::IoError("cannot create a temp directory for the secondary instance");
  }
  return pattern;
}

// How long a direct-mode open waits for the sessions of a server that just stopped to go
// (PostgreSQL ends a backend shortly after its client closed the connection).
constexpr auto kServerSessionsGrace = std::chrono::seconds(3);

// The PostgreSQL database's use, once the sessions of a stopped server are gone (or the grace
// is over). `for_writing` false: only whether the schema is there matters.
Result<storage::PgDatabaseUse> InspectPostgres(const storage::PgStoreOptions& options,
                                               bool for_writing) {
  auto deadline = std::chrono::steady_clock::now() + kServerSessionsGrace;
  while (true) {
    ASSIGN_OR_RETURN(storage::PgDatabaseUse use,
                     storage::InspectDatabaseUse(options, "papr-server"));
    if (!for_writing || use.sessions == 0 || std::chrono::steady_clock::now() > deadline) {
      return use;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Status CheckPostgresUse(const storage::PgDatabaseUse& use, bool for_writing) {
  if (!use.has_schema) {
    // Opening would create papr-server's tables in it: refuse instead.
    return Status::NotFound("no database: PostgreSQL database '" + use.database +
                            "' has no papr-server tables (is storage.postgres.url the "
                            "server's?)");
  }
  if (for_writing && use.sessions > 0) {
    return Status::FailedPrecondition(
        "PostgreSQL database '" + use.database + "' is in use by another process (" +
        std::to_string(use.sessions) +
        " papr-server session(s): a running papr-server?): go through it with --server URL "
        "--api-key KEY, or stop every server on it to change state in direct mode");
  }
  return Status::Ok();
}

}  // namespace

AdminStore::~AdminStore() {
  db_.reset();
  if (!secondary_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(secondary_dir_, ec);
  }
}

Result<std::unique_ptr<AdminStore>> AdminStore::OpenForReading(const config::Storage& storage) {
  if (storage.backend == "postgres") return OpenPostgres(storage, /*for_writing=*/false);
  return OpenRocksDbForReading(storage.data_dir);
}

Result<std::unique_ptr<AdminStore>> AdminStore::OpenForWriting(const config::Storage& storage) {
  if (storage.backend == "postgres") return OpenPostgres(storage, /*for_writing=*/true);
  return OpenRocksDbForWriting(storage.data_dir);
}

Result<std::unique_ptr<AdminStore>> AdminStore::OpenPostgres(const config::Storage& storage,
                                                             bool for_writing) {
  storage::PgStoreOptions options = storage::PostgresOptions(storage);
  options.application_name = "engine-admin";
  // A snapshot reads on one connection; direct mode's engine runs 2 runner threads.
  options.pool_size = for_writing ? std::min(options.pool_size, 4) : 1;
  ASSIGN_OR_RETURN(storage::PgDatabaseUse use, InspectPostgres(options, for_writing));
  RETURN_IF_ERROR(CheckPostgresUse(use, for_writing));
  std::unique_ptr<AdminStore> store(new AdminStore());
  store->backend_ = "postgres";
  if (for_writing) {
    ASSIGN_OR_RETURN(store->db_, storage::OpenPostgresDatabase(options));
    store->mode_ = "read-write";
  } else {
    ASSIGN_OR_RETURN(store->db_, storage::OpenPostgresSnapshot(options));
    store->mode_ = "snapshot";
  }
  return store;
}

Result<std::unique_ptr<AdminStore>> AdminStore::OpenRocksDbForReading(
    const std::string& data_dir) {
  std::unique_ptr<AdminStore> store(new AdminStore());
  store->data_dir_ = data_dir;
  storage::DbOptions options;
  options.path = DbPath(data_dir);
  options.read_only = true;
  auto read_only = storage::Db::Open(options);
  if (read_only.ok()) {
    store->db_ = std::move(read_only).value();
    store->mode_ = "read-only";
    return store;
  }
  if (read_only.status().IsNotFound()) {
    return Status::NotFound("no database at " + options.path +
                            " (is --data-dir the server's data directory?)");
  }
  ASSIGN_OR_RETURN(store->secondary_dir_, MakeSecondaryDir());
  options.read_only = false;
  options.secondary_path = store->secondary_dir_;
  auto secondary = storage::Db::Open(options);
  if (!secondary.ok()) {
    return Status(secondary.status().code(),
                  "cannot open " + options.path + " read-only (" + read_only.status().message() +
                      ") nor as a secondary (" + secondary.status().message() + ")");
  }
  store->db_ = std::move(secondary).value();
  store->mode_ = "secondary";
  return store;
}

Result<std::unique_ptr<AdminStore>> AdminStore::OpenRocksDbForWriting(
    const std::string& data_dir) {
  std::unique_ptr<AdminStore> store(new AdminStore());
  store->data_dir_ = data_dir;
  storage::DbOptions options;
  options.path = DbPath(data_dir);
  options.sync_writes = true;
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(options.path) / "CURRENT", ec)) {
    // A read-write open would create an empty database: refuse instead.
    return Status::NotFound("no database at " + options.path +
                            " (is --data-dir the server's data directory?)");
  }
  auto opened = storage::Db::Open(options);
  if (!opened.ok()) {
    if (opened.status().message().find("in use by another process") != std::string::npos) {
      return Status::FailedPrecondition(
          "data directory " + data_dir +
          " is in use by another process (a running papr-server?): go through it with "
          "--server URL --api-key KEY, or stop it to change state in direct mode");
    }
    return opened.status();
  }
  store->db_ = std::move(opened).value();
  store->mode_ = "read-write";
  return store;
}

Result<config::Config> LoadWorkflowConfig(const Flags& flags, std::string* source) {
  std::string path = flags.config_file;
  if (path.empty()) {
    if (const char* env = std::getenv("PAPR_CONFIG"); env != nullptr) path = env;
  }
  *source = path.empty() ? "built-in defaults" : path;
  ASSIGN_OR_RETURN(config::Config config, path.empty()
                                              ? config::LoadConfigFromString("", "<defaults>")
                                              : config::LoadConfigFromFile(path));
  config::ApplyEnvOverrides(config, [](const char* name) { return std::getenv(name); });
  if (!flags.data_dir.empty()) config.storage.data_dir = flags.data_dir;
  RETURN_IF_ERROR(config::Validate(config, /*built_with_engine=*/true));
  return config;
}

Result<std::unique_ptr<AdminStore>> OpenForReadCommand(const Flags& flags) {
  if (!flags.server_url.empty()) {
    return Status::FailedPrecondition(
        "read commands do not go through a server: drop --server; they read a snapshot of "
        "the database beside a running server");
  }
  std::string source;
  ASSIGN_OR_RETURN(config::Config config, LoadWorkflowConfig(flags, &source));
  return AdminStore::OpenForReading(config.storage);
}

WorkflowRuntime::WorkflowRuntime(const config::Config& config, storage::Db* db,
                                 engine::EngineOptions options)
    : config_(config) {
  store_ = std::make_unique<storage::MemoryStore>(db);
  processor_ = std::make_unique<workflows::MemoryProcessor>(
      store_.get(), config_.processing, config_.limits.max_content_bytes, options.clock);
  webhooks_ = std::make_unique<workflows::WebhookSender>(config_.webhooks, options.clock);
  engine_ = std::make_unique<engine::Engine>(db, options);
  batches_ = std::make_unique<workflows::DurableBatchService>(
      config_, engine_.get(), processor_.get(), webhooks_.get(), options.clock);
}

WorkflowRuntime::~WorkflowRuntime() {
  engine_->Shutdown();  // runner threads run workflow code owned by batches_
  batches_.reset();
  engine_.reset();
}

engine::EngineOptions DirectModeEngineOptions(const config::Config& config) {
  engine::EngineOptions options;
  options.activity_workers = 0;
  options.io_activity_workers = 0;
  options.runner_threads = 2;
  options.retention_ms = config.engine.retention_hours * 3600 * 1000;
  return options;
}

}  // namespace papr::engine_admin
