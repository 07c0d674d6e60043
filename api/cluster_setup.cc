#if PAPR_WITH_ENGINE
#include "api/cluster_setup.h"

#include <filesystem>
#include <fstream>

#include "common/crypto.h"

namespace papr::api {

Result<std::string> ResolveNodeId(const config::Config& config) {
  if (!config.cluster.node_id.empty()) return config.cluster.node_id;
  const std::filesystem::path path = std::filesystem::path(config.storage.data_dir) / "node_id";
  if (std::ifstream in(path); in) {
    std::string id;
    std::getline(in, id);
    if (!id.empty()) return id;
  }
  const std::string id = "node-" + RandomHexId();
  const std::filesystem::path partial = path.string() + ".tmp";
  {
    std::ofstream out(partial, std::ios::trunc);
    out << id << "\n";
    out.flush();
    if (!out) return Status::IoError("cannot write " + partial.string());
  }
  std::error_code ec;
  std::filesystem::rename(partial, path, ec);  // whole or absent after a crash
  if (ec) return Status::IoError("cannot write " + path.string() + ": " + ec.message());
  return id;
}

Result<std::unique_ptr<cluster::ClusterNode>> CreateClusterNode(const config::Config& config,
                                                                storage::Store* store) {
  if (store == nullptr) {
    return Status::FailedPrecondition("cluster.enabled needs the postgres storage backend");
  }
  const config::Cluster& c = config.cluster;
  cluster::ClusterNodeOptions options;
  ASSIGN_OR_RETURN(options.membership.node.node_id, ResolveNodeId(config));
  options.membership.node.address =
      c.advertise_address.empty() ? config.server.listen : c.advertise_address;
  options.membership.shards = static_cast<uint32_t>(c.shards);
  options.membership.heartbeat_interval = std::chrono::milliseconds(c.heartbeat_interval_ms);
  options.membership.lease_ttl = std::chrono::milliseconds(c.lease_ttl_ms);
  options.inbox_poll = std::chrono::milliseconds(c.inbox_poll_ms);
  return cluster::ClusterNode::Create(store, std::move(options));
}

}  // namespace papr::api
#endif
