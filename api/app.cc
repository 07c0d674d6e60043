#include "api/app.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>

#include "api/router.h"
#include "common/log.h"
#include "net/http_server.h"
#include "search/search_index.h"
#include "storage/db.h"
#include "storage/memory_store.h"
#include "storage/open/open_database.h"
#include "storage/write_resumer.h"
#include "workflows/memory_processor.h"
#include "workflows/oss_batch_service.h"
#include "workflows/webhook_sender.h"
#if PAPR_WITH_ENGINE
#include "api/cluster_setup.h"
#include "cluster/cluster_node.h"
#include "engine/engine.h"
#include "workflows/durable_batch_service.h"
#include "workflows/durable_hybrid_batch_service.h"
#endif

namespace papr::api {
namespace {

constexpr std::chrono::milliseconds kWriteResumeProbe{1000};
// Usage counts are stored in one write per interval (a crash loses at most this much).
constexpr int64_t kUsageFlushMs = 200;

std::string MsSince(std::chrono::steady_clock::time_point from,
                    std::chrono::steady_clock::time_point to) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count());
}

}  // namespace

struct App::Rep {
  config::Config config;
  std::unique_ptr<storage::Db> db;
  std::unique_ptr<storage::WriteResumer> resumer;  // before the rest: stops first
  std::unique_ptr<search::SearchIndex> index;  // before memories: outlives the store
  std::unique_ptr<storage::MemoryStore> memories;
  std::unique_ptr<storage::UsageStore> usage;
  std::unique_ptr<storage::EndUserStore> end_user_store;
  std::unique_ptr<workflows::MemoryProcessor> processor;
  std::unique_ptr<workflows::MemoryEditor> editor;
  std::unique_ptr<workflows::EndUsers> end_users;
  std::unique_ptr<workflows::WebhookSender> webhooks;
#if PAPR_WITH_ENGINE
  std::unique_ptr<cluster::ClusterNode> cluster;  // cluster mode; before the engine it drives
  // The node the search index asks whether it writes: set once the node runs, cleared when
  // it stops (the index's threads stop later, in App::Stop, before the node is destroyed).
  std::atomic<cluster::ClusterNode*> search_writer{nullptr};
  std::unique_ptr<engine::Engine> engine;
#endif
  std::unique_ptr<workflows::BatchService> batches;
  std::unique_ptr<Router> router;
  std::unique_ptr<net::HttpServer> http;
  std::atomic<bool> ready{false};
  bool stopped = false;
  // The engine starts in Recover, or, after a read-only start on a full disk, once the
  // database is writable again (from the resumer's thread, after Recover was asked for).
  std::mutex engine_start_mu;
  bool recover_requested = false;  // guarded by engine_start_mu

  Status StartEngineIfWritable();
};

Status App::Rep::StartEngineIfWritable() {
#if PAPR_WITH_ENGINE
  std::lock_guard<std::mutex> lock(engine_start_mu);
  if (!engine || !recover_requested || engine->started()) return Status::Ok();
  // Recovery writes: on a read-only database batch status is served from the store, and the
  // engine starts once space returns.
  if (db->opened_read_only_for_no_space()) return Status::Ok();
  RETURN_IF_ERROR(engine->Start());  // starts the periodic retention sweep too
  // Cluster mode: the engine owns no shard yet; it resumes each one as its lease comes.
  if (cluster) {
    cluster->Start(engine.get());
    search_writer = cluster.get();
  }
  return Status::Ok();
#else
  return Status::Ok();
#endif
}

App::App(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

App::~App() { Stop(); }

Result<std::unique_ptr<App>> App::Create(config::Config config) {
  auto rep = std::make_unique<Rep>();
  rep->config = std::move(config);
  const auto& c = rep->config;
  std::error_code ec;
  std::filesystem::create_directories(c.storage.data_dir, ec);
  if (ec) {
    return Status::IoError("cannot create data directory " + c.storage.data_dir + ": " +
                           ec.message());
  }
  const auto open_started = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(rep->db, storage::OpenDatabase(c.storage));
  const auto db_opened = std::chrono::steady_clock::now();
  // Write service comes back by itself after a no-space error once space is freed.
  App::Rep* r = rep.get();
  rep->resumer = std::make_unique<storage::WriteResumer>(rep->db.get(), kWriteResumeProbe, [r] {
    Status s = r->StartEngineIfWritable();
    if (!s.ok()) log::Error("engine start after space returned failed", {{"error", s.ToString()}});
  });
  search::SearchIndexOptions index_options;
#if PAPR_WITH_ENGINE
  if (c.cluster.enabled) {
    index_options.writer_fence = [r]() -> std::optional<storage::Fence> {
      cluster::ClusterNode* node = r->search_writer.load();
      return node != nullptr ? node->SearchWriterFence() : std::nullopt;
    };
  }
#endif
  ASSIGN_OR_RETURN(rep->index, search::SearchIndex::Open(rep->db.get(), index_options));
  log::Info("storage opened", {{"db_ms", MsSince(open_started, db_opened)},
                               {"index_ms", MsSince(db_opened, std::chrono::steady_clock::now())}});
  rep->memories = std::make_unique<storage::MemoryStore>(rep->db.get());
  rep->memories->AttachIndex(rep->index.get());
  rep->usage = std::make_unique<storage::UsageStore>(rep->db.get(), kUsageFlushMs);
  const Clock* clock = SystemClock::Default();
  rep->processor = std::make_unique<workflows::MemoryProcessor>(
      rep->memories.get(), c.processing, c.limits.max_content_bytes, clock);
  rep->editor = std::make_unique<workflows::MemoryEditor>(rep->memories.get(),
                                                          c.limits.max_content_bytes);
  rep->end_user_store = std::make_unique<storage::EndUserStore>(rep->db.get());
  rep->end_users = std::make_unique<workflows::EndUsers>(rep->end_user_store.get(),
                                                         rep->editor.get(), clock);
  rep->webhooks = std::make_unique<workflows::WebhookSender>(c.webhooks, clock);
  bool durable = c.features.has_temporal;
  if (durable) {
#if PAPR_WITH_ENGINE
    engine::EngineOptions engine_options;
    engine_options.activity_workers = static_cast<int>(c.engine.activity_workers);
    engine_options.io_activity_workers = static_cast<int>(c.engine.io_activity_workers);
    engine_options.retention_ms = c.engine.retention_hours * 3600 * 1000;
    engine_options.retention_sweep_ms = c.engine.retention_sweep_seconds * 1000;
    engine_options.clock = clock;
    if (c.cluster.enabled) {
      ASSIGN_OR_RETURN(rep->cluster, CreateClusterNode(c, rep->db->store()));
      rep->cluster->ConfigureEngine(&engine_options);
    }
    rep->engine = std::make_unique<engine::Engine>(rep->db.get(), engine_options);
    auto durable_batches = std::make_unique<workflows::DurableBatchService>(
        c, rep->engine.get(), rep->processor.get(), rep->webhooks.get(), clock);
    if (c.features.temporal_threshold > 0) {
      // Hybrid: small batches on the in-memory executor, larger ones durable.
      rep->batches = std::make_unique<workflows::HybridBatchService>(
          c.features.temporal_threshold, std::move(durable_batches),
          std::make_unique<workflows::OssBatchService>(c, rep->processor.get(),
                                                       rep->webhooks.get(), clock));
    } else {
      rep->batches = std::move(durable_batches);
    }
#else
    return Status::FailedPrecondition(
        "features.has_temporal is true but this build has no workflow engine");
#endif
  } else {
    rep->batches = std::make_unique<workflows::OssBatchService>(c, rep->processor.get(),
                                                                rep->webhooks.get(), clock);
  }
  RouterDeps deps;
  deps.config = &rep->config;
  deps.memories = rep->memories.get();
  deps.usage = rep->usage.get();
  deps.processor = rep->processor.get();
  deps.editor = rep->editor.get();
  deps.end_users = rep->end_users.get();
  deps.batches = rep->batches.get();
  deps.webhooks = rep->webhooks.get();
  deps.clock = clock;
  deps.ready = &rep->ready;
  storage::Db* db = rep->db.get();
  deps.writes_refused = [db] { return db->writes_refused(); };
  deps.database_reachable = [db] { return db->CheckReachable(); };
  App::Rep* app = rep.get();  // the server is made below, before any request can ask
  deps.more_metrics = [app] {
    std::string text = app->http->MetricsText();
#if PAPR_WITH_ENGINE
    if (app->cluster) text += app->cluster->MetricsText();
#endif
    return text;
  };
#if PAPR_WITH_ENGINE
  if (rep->cluster) {
    cluster::ClusterNode* node = rep->cluster.get();
    deps.cluster_view = [node] { return node->ViewJson(); };
  }
#endif
  rep->router = std::make_unique<Router>(deps);
  net::HttpServerOptions http_options;
  http_options.listen = c.server.listen;
  http_options.io_threads = static_cast<int>(c.server.io_threads);
  http_options.max_body_bytes = static_cast<uint64_t>(c.limits.max_request_bytes);
  http_options.idle_timeout_seconds = static_cast<int>(c.server.idle_timeout_seconds);
  http_options.read_timeout_seconds = static_cast<int>(c.server.read_timeout_seconds);
  http_options.max_connections = static_cast<int>(c.server.max_connections);
  Router* router = rep->router.get();
  rep->http = std::make_unique<net::HttpServer>(
      http_options, [router](net::HttpRequest req, net::Responder respond) {
        router->Handle(std::move(req), std::move(respond));
      });
  return std::unique_ptr<App>(new App(std::move(rep)));
}

Result<int> App::Listen() { return rep_->http->Start(); }

Status App::Recover() {
  // Recovery runs with the HTTP front up, so /readyz can say 503 until it is done.
  {
    std::lock_guard<std::mutex> lock(rep_->engine_start_mu);
    rep_->recover_requested = true;
  }
  RETURN_IF_ERROR(rep_->StartEngineIfWritable());
  rep_->ready = true;
  return Status::Ok();
}

void App::Stop() {
  if (rep_ == nullptr || rep_->stopped) return;
  rep_->stopped = true;
  rep_->ready = false;
  rep_->resumer.reset();  // first: it may be starting the engine
  if (rep_->router) rep_->router->CloseStreams();
  if (rep_->http) rep_->http->Stop();
  if (rep_->router) rep_->router->Shutdown();
#if PAPR_WITH_ENGINE
  rep_->search_writer = nullptr;
  if (rep_->cluster) rep_->cluster->Stop();  // hands its shards over before the engine stops
#endif
  if (rep_->batches) rep_->batches->Shutdown();
  if (rep_->index) rep_->index->Stop();
}

}  // namespace papr::api
