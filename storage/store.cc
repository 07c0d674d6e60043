#include "storage/store.h"

namespace papr::storage {

Result<std::vector<std::optional<std::string>>> StoreReader::MultiGet(
    Table table, const std::vector<std::string>& keys) const {
  return GetEachKey(keys, [&](const std::string& key) { return Get(table, key); });
}

namespace {

Status NoMembership(const Store& store) {
  return Status::FailedPrecondition(std::string("cluster membership needs a database that nodes "
                                                "share (storage.backend: postgres), not ") +
                                    store.BackendName());
}

}  // namespace

Status Store::Heartbeat(const NodeInfo& /*node*/) { return NoMembership(*this); }

Result<std::vector<NodeInfo>> Store::LiveNodes(std::chrono::milliseconds /*ttl*/) const {
  return NoMembership(*this);
}

Status Store::RemoveNode(std::string_view /*node_id*/) { return NoMembership(*this); }

Result<std::unique_ptr<InboxListener>> Store::ListenForInbox() const { return NoMembership(*this); }

Result<std::vector<ShardStatus>> StoreReader::ListShards() const {
  return Status::FailedPrecondition("this store has no cluster shards");
}

Result<std::vector<NodeStatus>> StoreReader::ListNodes() const {
  return Status::FailedPrecondition("this store has no cluster nodes");
}

}  // namespace papr::storage
