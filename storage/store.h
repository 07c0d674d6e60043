#pragma once

// storage::Store: the one storage interface of papr-server (see ../shared/SCALE-OUT.md), with
// two backends: RocksDB (storage/rocksdb/, the embedded single-node default) and PostgreSQL
// (storage/postgres/, many stateless nodes over one database). Tables are storage::Table and
// keys are the encodings of storage/keys.h on both: that pair stays the one definition of the
// layout. Keys and values are arbitrary bytes; keys compare bytewise (memcmp, shorter first on
// a tie), on Postgres too (bytea), so a prefix scan is a range scan.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "storage/batch.h"
#include "storage/db.h"

namespace papr::storage {

//! One page of a Scan: rows in key order, and where to resume when the limit cut it short.
struct ScanPage {
  std::vector<std::pair<std::string, std::string>> rows;
  // Set iff the page holds `limit` rows and more may follow: pass it as the next `start`.
  std::optional<std::string> resume_key;
};

//! A cluster node as the store knows it (SCALE-OUT.md: `nodes`).
struct NodeInfo {
  std::string node_id;
  std::string address;  // where other nodes and operators reach it (cluster.advertise_address)
};

//! A shard's row as operators see it (engine-admin shards, GET /v1/admin/cluster).
struct ShardStatus {
  uint32_t shard = 0;
  int64_t range_id = 0;
  std::string owner;               // "" while no node holds it
  int64_t lease_remaining_ms = 0;  // on the database's clock; <= 0: lapsed, or none
};

//! A node's row: its last heartbeat's age on the database's clock.
struct NodeStatus {
  NodeInfo node;
  int64_t heartbeat_age_ms = 0;
};

//! The read half of a Store, also implemented by snapshots.
class StoreReader {
 public:
  virtual ~StoreReader() = default;
  // nullopt when absent. Counter keys are read with GetCounters, not Get.
  virtual Result<std::optional<std::string>> Get(Table table, std::string_view key) const = 0;
  // Get of each key, in the order of `keys` (a key given twice is answered twice). A remote
  // store answers them in one round trip; the default asks Get for each.
  virtual Result<std::vector<std::optional<std::string>>> MultiGet(
      Table table, const std::vector<std::string>& keys) const;
  // Rows with start <= key < end (empty `end`: no upper bound), at most `limit` (>= 1).
  virtual Result<ScanPage> Scan(Table table, std::string_view start, std::string_view end,
                                size_t limit) const = 0;
  // The sums of every AddCounters on (table, key); absent -> {0, 0}.
  virtual Result<std::pair<int64_t, int64_t>> GetCounters(Table table,
                                                          std::string_view key) const = 0;
  // For operators: every shard row (by shard) and every node row (by id), live or not.
  // FailedPrecondition where there are no members (RocksDB).
  virtual Result<std::vector<ShardStatus>> ListShards() const;
  virtual Result<std::vector<NodeStatus>> ListNodes() const;
};

//! A read-only, consistent view of the store as of its creation. Thread-safe. On Postgres it
//! holds one pooled connection (a REPEATABLE READ READ ONLY transaction) until destroyed:
//! keep it short-lived. REQUIRES: destroyed before its Store.
class StoreSnapshot : public StoreReader {};

//! A shard lease: who holds shard `shard`, at which fencing epoch.
struct ShardLease {
  uint32_t shard = 0;
  int64_t range_id = 0;
  std::string owner;
  Fence fence() const { return Fence{shard, range_id}; }
};


//! What other nodes' commits announced since the last look.
struct ClusterNotices {
  std::vector<uint32_t> inbox_shards;  // shards that got inbox rows
  std::vector<std::string> closed;     // executions that closed (WriteBatch::AnnounceClosed)
  bool empty() const { return inbox_shards.empty() && closed.empty(); }
};

//! Notices of rows posted to kInbox, by shard, and of executions closed (PostgreSQL
//! LISTEN/NOTIFY: a write notifies when it commits), on a connection of its own. Not
//! thread-safe.
class InboxListener {
 public:
  virtual ~InboxListener() = default;
  // The notices since the last call, waiting up to `timeout` for one (empty on timeout). An
  // error: the connection is gone; make another listener.
  virtual Result<ClusterNotices> Wait(std::chrono::milliseconds timeout) = 0;
};

//! The storage interface. Thread-safe: any number of threads may call it at once.
class Store : public StoreReader {
 public:
  // Applies every op of `batch` atomically (all or nothing) across tables.
  // Errors: AlreadyExists (an Insert's key exists), OwnershipLost (the fence no longer
  // matches), Unavailable (the store cannot be reached: nothing applied, retry later),
  // UnknownOutcome (the connection died during COMMIT: re-read), DeadlineExceeded, IoError.
  virtual Status Write(const Batch& batch) = 0;
  virtual Result<std::unique_ptr<StoreSnapshot>> NewSnapshot() const = 0;

  // Shard leases (SCALE-OUT.md). Acquire succeeds when the shard is free, expired or already
  // `owner`'s, and then bumps its range_id (fencing out every earlier holder, the same owner's
  // earlier incarnation too); FailedPrecondition while another owner's lease is live. Renew
  // and Release fail with OwnershipLost once the lease's range_id is stale. The lease is for
  // liveness, the range_id (checked by a batch's Fence) for safety. No-ops on RocksDB, where
  // the database's LOCK file makes one process the only owner of every shard.
  virtual Result<ShardLease> AcquireShard(uint32_t shard, std::string_view owner,
                                          std::chrono::milliseconds ttl) = 0;
  virtual Status RenewShard(const ShardLease& lease, std::chrono::milliseconds ttl) = 0;
  virtual Status ReleaseShard(const ShardLease& lease) = 0;

  // Cluster membership (SCALE-OUT.md), on the database's clock: Heartbeat records that `node`
  // is alive now; LiveNodes lists, by node_id, the nodes whose last heartbeat is younger than
  // `ttl`; RemoveNode takes a leaving node out at once. Only a database that several nodes
  // share has members: FailedPrecondition elsewhere (RocksDB).
  virtual Status Heartbeat(const NodeInfo& node);
  virtual Result<std::vector<NodeInfo>> LiveNodes(std::chrono::milliseconds ttl) const;
  virtual Status RemoveNode(std::string_view node_id);
  // A listener of inbox notices; FailedPrecondition where nodes share no database (RocksDB).
  virtual Result<std::unique_ptr<InboxListener>> ListenForInbox() const;

  // "rocksdb" or "postgres".
  virtual const char* BackendName() const = 0;
};

}  // namespace papr::storage
