#pragma once

#include <memory>

#include "storage/postgres/pg_options.h"
#include "storage/store.h"

namespace papr::storage {
namespace pg {
class PgPool;
class PgWriteGroup;
}  // namespace pg

//! What the store did since it opened (for benchmarks and metrics).
struct PgStoreStats {
  int64_t writes = 0;       // Write calls (several may share one commit)
  int64_t commits = 0;
  int64_t round_trips = 0;  // of Write calls (commits and failed writes)
  int64_t statements = 0;   // sent by Write calls, BEGIN and COMMIT included
  int64_t rows = 0;         // written by committed Write calls
  int64_t insert_conflicts = 0;  // shared commits failed by a taken key (members re-run alone)
};

//! storage::Store on PostgreSQL 15 (SCALE-OUT.md): one (k bytea, v bytea) table per
//! storage::Table, counters striped by writer, shard leases and fences in `shards`. A Write is
//! one transaction in one round trip (libpq pipeline mode, prepared statements, multi-row
//! statements over arrays), shared with the Writes queued meanwhile (pg_write_group.h).
//! Commits are synced (`synchronous_commit = on`; concurrent commits share WAL flushes) unless
//! every batch in it is no-sync. A connection that dies is replaced by the
//! next caller, so the store recovers by itself when the server is back. Thread-safe.
class PostgresStore final : public Store {
 public:
  // Connects, creates the schema when the database has none (refusing a newer schema
  // version than this build's) and prepares the statements.
  static Result<std::unique_ptr<PostgresStore>> Open(const PgStoreOptions& options);
  ~PostgresStore() override;

  Status Write(const Batch& batch) override;
  Result<std::optional<std::string>> Get(Table table, std::string_view key) const override;
  Result<std::vector<std::optional<std::string>>> MultiGet(
      Table table, const std::vector<std::string>& keys) const override;
  Result<ScanPage> Scan(Table table, std::string_view start, std::string_view end,
                        size_t limit) const override;
  Result<std::pair<int64_t, int64_t>> GetCounters(Table table,
                                                  std::string_view key) const override;
  Result<std::unique_ptr<StoreSnapshot>> NewSnapshot() const override;

  Result<ShardLease> AcquireShard(uint32_t shard, std::string_view owner,
                                  std::chrono::milliseconds ttl) override;
  Status RenewShard(const ShardLease& lease, std::chrono::milliseconds ttl) override;
  Status ReleaseShard(const ShardLease& lease) override;
  Status Heartbeat(const NodeInfo& node) override;
  Result<std::vector<NodeInfo>> LiveNodes(std::chrono::milliseconds ttl) const override;
  Status RemoveNode(std::string_view node_id) override;
  Result<std::vector<ShardStatus>> ListShards() const override;
  Result<std::vector<NodeStatus>> ListNodes() const override;
  Result<std::unique_ptr<InboxListener>> ListenForInbox() const override;
  const char* BackendName() const override { return "postgres"; }

  PgStoreStats stats() const;

 private:
  explicit PostgresStore(std::unique_ptr<pg::PgPool> pool);
  Status UpdateLease(const char* statement, const ShardLease& lease,
                     std::optional<int64_t> ttl_ms);

  std::unique_ptr<pg::PgPool> pool_;
  std::unique_ptr<pg::PgWriteGroup> writes_;
};

}  // namespace papr::storage
