#include "storage/postgres/postgres_store.h"

#include <libpq-fe.h>

#include <mutex>
#include <utility>

#include "storage/postgres/pg_batch_sql.h"
#include "storage/postgres/pg_pool.h"
#include "storage/postgres/pg_inbox_listener.h"
#include "storage/postgres/pg_reads.h"
#include "storage/postgres/pg_schema.h"
#include "storage/postgres/pg_sql.h"
#include "storage/postgres/pg_write_group.h"

namespace papr::storage {
namespace {

//! A REPEATABLE READ READ ONLY transaction on a borrowed connection, rolled back (and the
//! connection returned) on destruction. Reads are serialised on the one connection.
class PgSnapshot final : public StoreSnapshot {
 public:
  explicit PgSnapshot(pg::PgPool::Borrowed borrowed) : borrowed_(std::move(borrowed)) {}
  ~PgSnapshot() override {
    if (borrowed_.conn().connection_ok()) borrowed_.conn().ExecSql("ROLLBACK").IgnoreError();
  }

  Result<std::optional<std::string>> Get(Table table, std::string_view key) const override {
    std::lock_guard<std::mutex> lock(mu_);
    return pg::ReadRow(borrowed_.conn(), table, key);
  }
  Result<ScanPage> Scan(Table table, std::string_view start, std::string_view end,
                        size_t limit) const override {
    std::lock_guard<std::mutex> lock(mu_);
    return pg::ReadRange(borrowed_.conn(), table, start, end, limit);
  }
  Result<std::pair<int64_t, int64_t>> GetCounters(Table table,
                                                  std::string_view key) const override {
    std::lock_guard<std::mutex> lock(mu_);
    return pg::ReadCounters(borrowed_.conn(), table, key);
  }
  Result<std::vector<ShardStatus>> ListShards() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return pg::ReadShards(borrowed_.conn());
  }
  Result<std::vector<NodeStatus>> ListNodes() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return pg::ReadNodes(borrowed_.conn());
  }

 private:
  mutable std::mutex mu_;
  mutable pg::PgPool::Borrowed borrowed_;
};

}  // namespace

// Half the pool for transactions in flight: reads get the rest, and writes arriving meanwhile
// wait to share the next transaction (pg_write_group.h).
PostgresStore::PostgresStore(std::unique_ptr<pg::PgPool> pool)
    : pool_(std::move(pool)),
      writes_(std::make_unique<pg::PgWriteGroup>(pool_.get(), pool_->options().pool_size / 2)) {}
PostgresStore::~PostgresStore() = default;

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(const PgStoreOptions& options) {
  if (options.url.empty()) return Status::InvalidArgument("storage.postgres.url is empty");
  {
    // The schema first: preparing statements needs the tables.
    ASSIGN_OR_RETURN(std::unique_ptr<pg::PgConnection> conn, pg::PgConnection::Connect(options));
    RETURN_IF_ERROR(pg::EnsureSchema(*conn));
  }
  std::unique_ptr<PostgresStore> store(new PostgresStore(std::make_unique<pg::PgPool>(options)));
  {
    ASSIGN_OR_RETURN(pg::PgPool::Borrowed first, store->pool_->Borrow());  // fail fast
  }
  return store;
}

Status PostgresStore::Write(const Batch& batch) {
  if (batch.Count() == 0 && !batch.fence().has_value()) return Status::Ok();
  return writes_->Write(batch);
}

Result<std::optional<std::string>> PostgresStore::Get(Table table, std::string_view key) const {
  ASSIGN_OR_RETURN(pg::PgPool::Borrowed borrowed, pool_->Borrow());
  return pg::ReadRow(borrowed.conn(), table, key);
}

Result<std::vector<std::optional<std::string>>> PostgresStore::MultiGet(
    Table table, const std::vector<std::string>& keys) const {
  ASSIGN_OR_RETURN(pg::PgPool::Borrowed borrowed, pool_->Borrow());
  return pg::ReadRows(borrowed.conn(), table, keys);
}

Result<ScanPage> PostgresStore::Scan(Table table, std::string_view start, std::string_view end,
                                     size_t limit) const {
  ASSIGN_OR_RETURN(pg::PgPool::Borrowed borrowed, pool_->Borrow());
  return pg::ReadRange(borrowed.conn(), table, start, end, limit);
}

Result<std::pair<int64_t, int64_t>> PostgresStore::GetCounters(Table table,
                                                               std::string_view key) const {
  ASSIGN_OR_RETURN(pg::PgPool::Borrowed borrowed, pool_->Borrow());
  return pg::ReadCounters(borrowed.conn(), table, key);
}

Result<std::unique_ptr<StoreSnapshot>> PostgresStore::NewSnapshot() const {
  ASSIGN_OR_RETURN(pg::PgPool::Borrowed borrowed, pool_->Borrow());
  // The snapshot is taken by the first query, so take it now: reads see the store as of here.
  RETURN_IF_ERROR(borrowed.conn().ExecSql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  Status pinned = borrowed.conn().ExecSql("SELECT 1");
  if (!pinned.ok()) {
    if (borrowed.conn().connection_ok()) borrowed.conn().ExecSql("ROLLBACK").IgnoreError();
    return pinned;
  }
  return std::unique_ptr<StoreSnapshot>(std::make_unique<PgSnapshot>(std::move(borrowed)));
}

Result<ShardLease> PostgresStore::AcquireShard(uint32_t shard, std::string_view owner,
                                               std::chrono::milliseconds ttl) {
  ASSIGN_OR_RETURN(pg::PgPool::Borrowed borrowed, pool_->Borrow());
  pg::PgParams params;
  params.Int4(static_cast<int32_t>(shard)).Bytes(owner).Int8(ttl.count());
  ASSIGN_OR_RETURN(pg::PgResult result, borrowed.conn().Exec(pg::kShardAcquire, params));
  if (PQntuples(result.get()) != 1) {
    return Status::FailedPrecondition("shard " + std::to_string(shard) +
                                      " is leased by another live owner");
  }
  return ShardLease{shard, pg::DecodeInt8(PQgetvalue(result.get(), 0, 0)), std::string(owner)};
}

Status PostgresStore::UpdateLease(const char* statement, const ShardLease& lease,
                                  std::optional<int64_t> ttl_ms) {
  ASSIGN_OR_RETURN(pg::PgPool::Borrowed borrowed, pool_->Borrow());
  pg::PgParams params;
  params.Int4(static_cast<int32_t>(lease.shard)).Int8(lease.range_id);
  if (ttl_ms.has_value()) params.Int8(*ttl_ms);
  ASSIGN_OR_RETURN(pg::PgResult result, borrowed.conn().Exec(statement, params));
  if (PQntuples(result.get()) == 1) return Status::Ok();
  return Status::OwnershipLost("shard " + std::to_string(lease.shard) + " is no longer at range_id " +
                               std::to_string(lease.range_id));
}

Status PostgresStore::RenewShard(const ShardLease& lease, std::chrono::milliseconds ttl) {
  return UpdateLease(pg::kShardRenew, lease, ttl.count());
}

Status PostgresStore::ReleaseShard(const ShardLease& lease) {
  return UpdateLease(pg::kShardRelease, lease, std::nullopt);
}

Status PostgresStore::Heartbeat(const NodeInfo& node) {
  ASSIGN_OR_RETURN(pg::PgPool::Borrowed borrowed, pool_->Borrow());
  pg::PgParams params;
  params.Bytes(node.node_id).Bytes(node.address);
  return borrowed.conn().Exec(pg::kNodeHeartbeat, params).status();
}

Result<std::vector<NodeInfo>> PostgresStore::LiveNodes(std::chrono::milliseconds ttl) const {
  ASSIGN_OR_RETURN(pg::PgPool::Borrowed borrowed, pool_->Borrow());
  pg::PgParams params;
  params.Int8(ttl.count());
  ASSIGN_OR_RETURN(pg::PgResult result, borrowed.conn().Exec(pg::kNodesLive, params));
  std::vector<NodeInfo> nodes;
  for (int row = 0; row < PQntuples(result.get()); ++row) {
    nodes.push_back(NodeInfo{
        std::string(PQgetvalue(result.get(), row, 0), PQgetlength(result.get(), row, 0)),
        std::string(PQgetvalue(result.get(), row, 1), PQgetlength(result.get(), row, 1))});
  }
  return nodes;
}

Status PostgresStore::RemoveNode(std::string_view node_id) {
  ASSIGN_OR_RETURN(pg::PgPool::Borrowed borrowed, pool_->Borrow());
  pg::PgParams params;
  params.Bytes(node_id);
  return borrowed.conn().Exec(pg::kNodeRemove, params).status();
}

Result<std::vector<ShardStatus>> PostgresStore::ListShards() const {
  ASSIGN_OR_RETURN(pg::PgPool::Borrowed borrowed, pool_->Borrow());
  return pg::ReadShards(borrowed.conn());
}

Result<std::vector<NodeStatus>> PostgresStore::ListNodes() const {
  ASSIGN_OR_RETURN(pg::PgPool::Borrowed borrowed, pool_->Borrow());
  return pg::ReadNodes(borrowed.conn());
}

Result<std::unique_ptr<InboxListener>> PostgresStore::ListenForInbox() const {
  return pg::ListenForInbox(pool_->options());
}

PgStoreStats PostgresStore::stats() const {
  const pg::WriteGroupStats& w = writes_->stats();
  return PgStoreStats{w.writes.load(), w.commits.load(), w.round_trips.load(),
                      w.statements.load(), w.rows.load(), w.insert_conflicts.load()};
}

}  // namespace papr::storage
