#include "cluster/shard_count.h"

#include <charconv>
#include <string>

#include "storage/keys.h"

namespace papr::cluster {
namespace {

Result<uint32_t> ParseShardCount(const std::string& value) {
  uint32_t count = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), count);
  if (ec != std::errc() || end != value.data() + value.size() || count == 0 ||
      count > kMaxShards) {
    return Status::Corruption("the stored cluster shard count '" + value + "' does not parse");
  }
  return count;
}

}  // namespace

Result<uint32_t> EnsureShardCount(storage::Store& store, uint32_t configured) {
  if (configured == 0 || configured > kMaxShards) {
    return Status::FailedPrecondition("cluster.shards must be within 1.." +
                                      std::to_string(kMaxShards) + ", not " +
                                      std::to_string(configured));
  }
  storage::Batch init;
  init.Insert(storage::Table::kMeta, storage::MetaClusterShardsKey(), std::to_string(configured));
  Status inserted = store.Write(init);
  if (inserted.ok()) return configured;
  if (inserted.code() != StatusCode::kAlreadyExists) return inserted;
  ASSIGN_OR_RETURN(std::optional<std::string> stored,
                   store.Get(storage::Table::kMeta, storage::MetaClusterShardsKey()));
  if (!stored.has_value()) return Status::Internal("the cluster shard count vanished");
  ASSIGN_OR_RETURN(uint32_t count, ParseShardCount(*stored));
  if (count != configured) {
    return Status::FailedPrecondition(
        "this database's cluster has " + std::to_string(count) + " shards; cluster.shards is " +
        std::to_string(configured) + " (it is fixed when the cluster is first started)");
  }
  return count;
}

}  // namespace papr::cluster
