#pragma once

// Cluster mode's set-up from the config (cluster.*): the node's id, kept in the data
// directory across restarts when not configured, its address, and its membership timings.

#include <memory>
#include <string>

#include "cluster/cluster_node.h"
#include "common/result.h"
#include "config/config.h"
#include "storage/store.h"

namespace papr::api {

// cluster.node_id, or the id in <data_dir>/node_id, or a new one written there first.
Result<std::string> ResolveNodeId(const config::Config& config);

// The node of this server on `store` (null: the database is not one nodes can share).
Result<std::unique_ptr<cluster::ClusterNode>> CreateClusterNode(const config::Config& config,
                                                                storage::Store* store);

}  // namespace papr::api
