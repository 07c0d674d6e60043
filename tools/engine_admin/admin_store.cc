#include "tools/engine_admin/admin_store.h"

#include <cstdlib>
#include <filesystem>

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

}  // namespace

AdminStore::~AdminStore() {
  db_.reset();
  if (!secondary_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(secondary_dir_, ec);
  }
}

Result<std::unique_ptr<AdminStore>> AdminStore::OpenForReading(const std::string& data_dir) {
  std::unique_ptr<AdminStore> store(new AdminStore());
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

Result<std::unique_ptr<AdminStore>> AdminStore::OpenForWriting(const std::string& data_dir) {
  std::unique_ptr<AdminStore> store(new AdminStore());
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

Result<config::Config> LoadWorkflowConfig(const std::string& config_file, std::string* source) {
  std::string path = config_file;
  if (path.empty()) {
    if (const char* env = std::getenv("PAPR_CONFIG"); env != nullptr) path = env;
  }
  if (path.empty()) {
    *source = "built-in defaults";
    return config::LoadConfigFromString("", "<defaults>");
  }
  *source = path;
  ASSIGN_OR_RETURN(config::Config config, config::LoadConfigFromFile(path));
  RETURN_IF_ERROR(config::Validate(config, /*built_with_engine=*/true));
  RETURN_IF_ERROR(config::CheckBackendWired(config));
  return config;
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
