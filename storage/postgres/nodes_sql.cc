// nodes: one row per cluster node and its last heartbeat, on the database's clock, so that
// nodes with skewed clocks agree on who is alive.
#include "storage/postgres/pg_sql.h"

namespace papr::storage::pg {

const char* const kNodeHeartbeat = "node_heartbeat";
const char* const kNodesLive = "nodes_live";
const char* const kNodeRemove = "node_remove";
const char* const kNodesAll = "nodes_all";

std::vector<std::string> NodesDdl() {
  return {
      "CREATE TABLE IF NOT EXISTS nodes ("
      " node_id text PRIMARY KEY,"
      " address text NOT NULL,"
      " heartbeat_at timestamptz NOT NULL)",
  };
}

std::vector<PreparedSql> NodesStatements() {
  return {
      {kNodeHeartbeat,
       "INSERT INTO nodes (node_id, address, heartbeat_at) VALUES ($1::text, $2::text, now())"
       " ON CONFLICT (node_id) DO UPDATE SET address = EXCLUDED.address,"
       " heartbeat_at = EXCLUDED.heartbeat_at"},
      {kNodesLive,
       "SELECT node_id, address FROM nodes"
       " WHERE heartbeat_at > now() - $1::int8 * interval '1 millisecond' ORDER BY node_id"},
      {kNodeRemove, "DELETE FROM nodes WHERE node_id = $1::text"},
      {kNodesAll,
       "SELECT node_id, address, (extract(epoch FROM now() - heartbeat_at) * 1000)::int8"
       " FROM nodes ORDER BY node_id"},
  };
}

}  // namespace papr::storage::pg
