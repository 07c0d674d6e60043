#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "config/config.h"
#include "engine/engine.h"
#include "storage/db.h"
#include "storage/memory_store.h"
#include "tools/engine_admin/admin_flags.h"
#include "workflows/durable_batch_service.h"
#include "workflows/memory_processor.h"
#include "workflows/webhook_sender.h"

namespace papr::engine_admin {

//! The server's database as engine-admin opens it: the backend the server's config selects
//! (storage.backend; RocksDB under <storage.data_dir>/db, or PostgreSQL at
//! storage.postgres.url), and how.
//! Reading takes a snapshot, beside a running server or not: RocksDB opens read-only (no lock:
//! the state as of the open) or else as a secondary instance in a temp directory (removed on
//! destruction); PostgreSQL reads in one REPEATABLE READ READ ONLY transaction.
//! Writing (direct mode) needs the server stopped: RocksDB's database lock refuses it while a
//! server holds the directory; PostgreSQL has no such lock, so it is refused while any
//! papr-server session is connected to the database (engine-admin's sessions are named
//! engine-admin). Neither backend's open creates a database that is not there.
class AdminStore {
 public:
  static Result<std::unique_ptr<AdminStore>> OpenForReading(const config::Storage& storage);
  static Result<std::unique_ptr<AdminStore>> OpenForWriting(const config::Storage& storage);
  ~AdminStore();

  storage::Db* db() const { return db_.get(); }
  // "read-only", "secondary" (RocksDB), "snapshot" (PostgreSQL) or "read-write".
  const std::string& mode() const { return mode_; }
  // "rocksdb" or "postgres".
  const std::string& backend() const { return backend_; }
  // RocksDB: the data directory (the database is in <data_dir>/db); "" on PostgreSQL.
  const std::string& data_dir() const { return data_dir_; }

 private:
  AdminStore() = default;
  static Result<std::unique_ptr<AdminStore>> OpenRocksDbForReading(const std::string& data_dir);
  static Result<std::unique_ptr<AdminStore>> OpenRocksDbForWriting(const std::string& data_dir);
  static Result<std::unique_ptr<AdminStore>> OpenPostgres(const config::Storage& storage,
                                                          bool for_writing);
  std::unique_ptr<storage::Db> db_;
  std::string mode_;
  std::string backend_ = "rocksdb";
  std::string data_dir_;
  std::string secondary_dir_;  // removed after the Db is closed
};

// The server's config as the workflow code and the database open need it: --config FILE, else
// $PAPR_CONFIG, else defaults; then the environment overrides the server applies
// (PAPR_DATA_DIR, PAPR_STORAGE_BACKEND, PAPR_DATABASE_URL), then --data-dir. `source` says
// which file (for messages).
Result<config::Config> LoadWorkflowConfig(const Flags& flags, std::string* source);

// The database for a read command: LoadWorkflowConfig's storage, opened for reading.
Result<std::unique_ptr<AdminStore>> OpenForReadCommand(const Flags& flags);

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
