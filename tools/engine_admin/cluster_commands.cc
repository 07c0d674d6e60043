// nodes and shards: the cluster as the shared PostgreSQL database shows it (cluster mode),
// read beside running nodes.

#include <map>

#include "cluster/cluster_view.h"
#include "tools/engine_admin/admin_store.h"
#include "tools/engine_admin/commands.h"

namespace papr::engine_admin {
namespace {

struct LoadedView {
  cluster::ClusterView view;
  int64_t lease_ttl_ms = 0;  // the config's: a node is live while its heartbeat is younger
};

Result<LoadedView> LoadView(const Flags& flags) {
  std::string source;
  ASSIGN_OR_RETURN(config::Config config, LoadWorkflowConfig(flags, &source));
  ASSIGN_OR_RETURN(auto store, OpenForReadCommand(flags));
  if (store->db()->store() == nullptr) {
    return Status::FailedPrecondition("a cluster runs on PostgreSQL (storage.backend: postgres); " +
                                      source + " selects " + store->backend());
  }
  ASSIGN_OR_RETURN(cluster::ClusterView view, cluster::ReadClusterView(*store->db()->store()));
  return LoadedView{std::move(view), config.cluster.lease_ttl_ms};
}

std::string Padded(std::string text, size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text + " ";
}

}  // namespace

Result<CommandOutput> RunNodes(const Flags& flags) {
  ASSIGN_OR_RETURN(LoadedView loaded, LoadView(flags));
  if (flags.json)
    return CommandOutput{cluster::ClusterViewJson(loaded.view, loaded.lease_ttl_ms) + "\n", 0};
  std::map<std::string, int64_t> owned;
  for (const auto& s : loaded.view.shards) {
    if (s.status.lease_remaining_ms > 0) owned[s.status.owner]++;
  }
  std::string text =
      Padded("NODE", 36) + Padded("ADDRESS", 22) + "HEARTBEAT_AGE_MS  LIVE  SHARDS\n";
  for (const auto& n : loaded.view.nodes) {
    text += Padded(n.node.node_id, 36) + Padded(n.node.address, 22) +
            Padded(std::to_string(n.heartbeat_age_ms), 17) +
            Padded(n.heartbeat_age_ms < loaded.lease_ttl_ms ? "yes" : "no", 5) +
            std::to_string(owned[n.node.node_id]) + "\n";
  }
  return CommandOutput{text, 0};
}

Result<CommandOutput> RunShards(const Flags& flags) {
  ASSIGN_OR_RETURN(LoadedView loaded, LoadView(flags));
  if (flags.json)
    return CommandOutput{cluster::ClusterViewJson(loaded.view, loaded.lease_ttl_ms) + "\n", 0};
  std::string text = Padded("SHARD", 5) + Padded("OWNER", 36) + "RANGE_ID  LEASE_MS  OPEN  INBOX\n";
  for (const auto& s : loaded.view.shards) {
    const bool held = s.status.lease_remaining_ms > 0;
    text += Padded(std::to_string(s.status.shard), 5) + Padded(held ? s.status.owner : "-", 36) +
            Padded(std::to_string(s.status.range_id), 9) +
            Padded(std::to_string(held ? s.status.lease_remaining_ms : 0), 9) +
            Padded(std::to_string(s.open_executions), 5) + std::to_string(s.inbox_rows) + "\n";
  }
  return CommandOutput{text, 0};
}

}  // namespace papr::engine_admin
