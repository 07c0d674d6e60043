#pragma once

// The SQL of the PostgreSQL backend: one file per table (Temporal's SQL persistence does the
// same), each with its DDL and its prepared statements. The schema version is in
// schema_sql.cc; any change to a DDL bumps it.

#include <string>
#include <vector>

#include "storage/db.h"

namespace papr::storage::pg {

//! A statement prepared on every pooled connection.
struct PreparedSql {
  std::string name;
  std::string text;
};

// ---- schema_sql.cc: schema_version(id = 1, version)
// 2: the nodes table; history pages kept inline (toast_tuple_target). 3: the inbox table.
constexpr int kSchemaVersion = 4;
extern const char* const kSchemaVersionDdl;
extern const char* const kSchemaLockSql;  // serialises concurrent creators (advisory lock)
extern const char* const kSchemaVersionGetSql;
std::string SchemaVersionSetSql(int version);

// ---- kv_table_sql.cc: one (k bytea PRIMARY KEY, v bytea) table per storage::Table
enum class KvOp { kGet, kScan, kScanToEnd, kInsert, kUpsert, kDelete, kMultiGet };
std::string KvTableName(Table table);
std::vector<std::string> KvTablesDdl();
std::vector<PreparedSql> KvStatements();
// The prepared statement's name. Parameters:
//   kGet      $1 k                       -> v
//   kScan     $1 start, $2 end, $3 limit -> k, v in k order
//   kScanToEnd $1 start, $2 limit        -> k, v in k order
//   kInsert / kUpsert $1 k[], $2 v[]     (kInsert fails with unique_violation on a taken key)
//   kDelete   $1 k[]
//   kMultiGet $1 k[]                      -> k, v of the keys present (any order)
std::string KvStatementName(KvOp op, Table table);

// ---- counters_sql.cc: counters(tbl, k, stripe, a, b), additive upserts
std::vector<std::string> CountersDdl();
std::vector<PreparedSql> CountersStatements();
extern const char* const kCountersAdd;     // $1 stripe, $2 tbl[], $3 k[], $4 a[], $5 b[]
extern const char* const kCountersGet;     // $1 tbl, $2 k -> sum(a), sum(b)
extern const char* const kCountersDelete;  // $1 tbl[], $2 k[] (every stripe)

// ---- shards_sql.cc: shards(shard_id, range_id, owner, lease_expires) and the fence
std::vector<std::string> ShardsDdl();
std::vector<PreparedSql> ShardsStatements();
extern const char* const kShardFence;    // $1 shard, $2 range_id; raises kFenceSqlState
extern const char* const kShardAcquire;  // $1 shard, $2 owner, $3 ttl_ms -> range_id
extern const char* const kShardRenew;    // $1 shard, $2 range_id, $3 ttl_ms -> 1 row or none
extern const char* const kShardRelease;  // $1 shard, $2 range_id -> 1 row or none
extern const char* const kInboxNotify;   // $1 payload: the shards, "3,17" (inbox rows posted)
extern const char* const kInboxChannel;  // the channel kInboxNotify notifies (LISTEN)
extern const char* const kClosedNotify;   // $1 payload: workflow ids that closed, one a line
extern const char* const kClosedChannel;  // the channel kClosedNotify notifies (LISTEN)
extern const char* const kShardsAll;     // -> shard, range_id, owner or '', lease ms left
// The SQLSTATE papr_check_fence raises on a stale range_id.
extern const char* const kFenceSqlState;

// ---- nodes_sql.cc: nodes(node_id, address, heartbeat_at)
std::vector<std::string> NodesDdl();
std::vector<PreparedSql> NodesStatements();
extern const char* const kNodeHeartbeat;  // $1 node_id, $2 address
extern const char* const kNodesLive;      // $1 ttl_ms -> node_id, address by node_id
extern const char* const kNodeRemove;     // $1 node_id
extern const char* const kNodesAll;       // -> node_id, address, heartbeat age ms

// ---- schema_sql.cc: what brings a database from version v to v + 1 (index v - 1)
std::vector<std::vector<std::string>> SchemaMigrations();

}  // namespace papr::storage::pg
