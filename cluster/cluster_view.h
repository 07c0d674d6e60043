#pragma once

// What an operator sees of a cluster (GET /v1/admin/cluster, engine-admin nodes / shards):
// the nodes with their heartbeat ages, and each shard's owner, fencing epoch, lease and
// open executions, read from the database the nodes share.

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "storage/store.h"

namespace papr::cluster {

struct ShardView {
  storage::ShardStatus status;
  int64_t open_executions = 0;  // running executions whose root hashes to this shard
  int64_t inbox_rows = 0;        // starts and requests posted for its owner, not applied yet
};

struct ClusterView {
  uint32_t shard_count = 0;
  std::vector<storage::NodeStatus> nodes;
  std::vector<ShardView> shards;  // one per shard, by shard id (never acquired: owner "")
};

// FailedPrecondition when `db` holds no cluster (RocksDB, or no node ever ran clustered).
Result<ClusterView> ReadClusterView(const storage::Store& store);

// The view as JSON: {"shard_count", "nodes": [{"node_id", "address", "heartbeat_age_ms",
// "live", "shards_owned"}], "shards": [{"shard", "owner", "range_id", "lease_remaining_ms",
// "open_executions", "inbox_rows"}]}. A node is live while its heartbeat is younger than `live_ttl_ms`.
std::string ClusterViewJson(const ClusterView& view, int64_t live_ttl_ms);

}  // namespace papr::cluster
