#pragma once

// load --nodes 1,2,4: cluster mode on this machine. For each N it starts a PostgreSQL 15 of
// its own and N papr-server nodes over it (cluster.enabled, default leases), then measures
//   W1 one 10,000-memory batch, POST to completed (submitted to node 0)
//   W2 1,000 batches of 10, 50 in flight, round-robin over the nodes (batches/s)
//   TAKEOVER (N >= 2) kill -9 of one node: until the others serve all its shards (ms), and
//            a 10,000-memory batch running on the killed node: POST to completed (ms)
// and prints one table row per N. The nodes and the database share this machine's cores,
// so the rows show coordination cost, not scaling across machines.

#include <string>

namespace papr::bench {

// `nodes`: a comma-separated list of node counts. Returns the process exit code.
int RunClusterLoad(const std::string& nodes);

}  // namespace papr::bench
