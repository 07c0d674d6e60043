#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "config/config.h"
#include "engine/engine.h"
#include "storage/db.h"
#include "storage/memory_store.h"
#include "workflows/durable_batch_service.h"
#include "workflows/memory_processor.h"
#include "workflows/webhook_sender.h"

namespace papr::engine_admin {

//! The server's database as engine-admin opens it, and how. Read access tries a read-only
//! open (no lock: works beside a running server, seeing the state as of the open) and falls
//! back to a RocksDB secondary instance in a temp directory (removed on destruction). Write
//! access takes the database lock, so it fails while a server holds the directory.
class AdminStore {
 public:
  static Result<std::unique_ptr<AdminStore>> OpenForReading(const std::string& data_dir);
  static Result<std::unique_ptr<AdminStore>> OpenForWriting(const std::string& data_dir);
  ~AdminStore();

  storage::Db* db() const { return db_.get(); }
  // "read-only", "secondary" or "read-write".
  const std::string& mode() const { return mode_; }

 private:
  AdminStore() = default;
  std::unique_ptr<storage::Db> db_;
  std::string mode_;
  std::string secondary_dir_;  // removed after the Db is closed
};

// The config the workflow code runs with: --config FILE, else $PAPR_CONFIG, else defaults.
// `source` says which (for messages).
Result<config::Config> LoadWorkflowConfig(const std::string& config_file, std::string* source);

//! The workflow code compiled into this build (DurableBatchService's workflows and
//! activities) registered on an Engine over `db`. Construction has no side effects; nothing
//! runs until engine().Start(). `db` may be null when only ReplayCheck is used (it reads no
//! storage). The destructor shuts the engine down before the service it calls into.
class WorkflowRuntime {
 public:
  WorkflowRuntime(const config::Config& config, storage::Db* db, engine::EngineOptions options);
  ~WorkflowRuntime();

  engine::Engine& engine() { return *engine_; }
  workflows::DurableBatchService& batches() { return *batches_; }

 private:
  config::Config config_;
  std::unique_ptr<storage::MemoryStore> store_;
  std::unique_ptr<workflows::MemoryProcessor> processor_;
  std::unique_ptr<workflows::WebhookSender> webhooks_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<workflows::DurableBatchService> batches_;
};

// Engine options for direct mode: no activity workers, so recovery and the command never run
// an activity (dispatched ones stay queued and are dropped at Shutdown; the server re-runs
// them on its next start, as after any restart).
engine::EngineOptions DirectModeEngineOptions(const config::Config& config);

}  // namespace papr::engine_admin
