#include "cluster/cluster_view.h"

#include <charconv>
#include <map>

#include "cluster/shard_hash.h"
#include "common/json_writer.h"
#include "engine/execution_record.h"
#include "storage/keys.h"

namespace papr::cluster {
namespace {

Result<uint32_t> StoredShardCount(const storage::Store& store) {
  ASSIGN_OR_RETURN(auto stored, store.Get(storage::Table::kMeta, storage::MetaClusterShardsKey()));
  if (!stored.has_value()) {
    return Status::FailedPrecondition("this database has never run as a cluster");
  }
  uint32_t count = 0;
  auto [end, ec] = std::from_chars(stored->data(), stored->data() + stored->size(), count);
  if (ec != std::errc() || end != stored->data() + stored->size() || count == 0) {
    return Status::Corruption("the stored cluster shard count '" + *stored + "' does not parse");
  }
  return count;
}

// Adds each running execution to its shard's count.
Status CountOpenExecutions(const storage::Store& store, ClusterView* view) {
  const auto running = static_cast<uint8_t>(engine::ExecutionStatus::kRunning);
  std::string start = storage::VisibilityStatusPrefix(running);
  const std::string end = storage::VisibilityStatusPrefix(running + 1);
  for (;;) {
    ASSIGN_OR_RETURN(storage::ScanPage page,
                     store.Scan(storage::Table::kVisibility, start, end, 1000));
    for (const auto& [key, value] : page.rows) {
      uint8_t status = 0;
      uint64_t start_ms = 0;
      std::string_view id;
      if (storage::DecodeVisibilityKey(key, &status, &start_ms, &id)) {
        view->shards[ShardOf(id, view->shard_count)].open_executions++;
      }
    }
    if (!page.resume_key) return Status::Ok();
    start = *page.resume_key;
  }
}

// Adds each inbox row to its shard's count (keys start with the shard, BE16).
Status CountInboxRows(const storage::Store& store, ClusterView* view) {
  std::string start;
  for (;;) {
    ASSIGN_OR_RETURN(storage::ScanPage page, store.Scan(storage::Table::kInbox, start, "", 1000));
    for (const auto& [key, value] : page.rows) {
      if (key.size() < 2) continue;
      const uint32_t shard = (static_cast<uint8_t>(key[0]) << 8) | static_cast<uint8_t>(key[1]);
      if (shard < view->shard_count) view->shards[shard].inbox_rows++;
    }
    if (!page.resume_key) return Status::Ok();
    start = *page.resume_key;
  }
}

}  // namespace

Result<ClusterView> ReadClusterView(const storage::Store& store) {
  ClusterView view;
  ASSIGN_OR_RETURN(view.shard_count, StoredShardCount(store));
  ASSIGN_OR_RETURN(view.nodes, store.ListNodes());
  ASSIGN_OR_RETURN(auto rows, store.ListShards());
  view.shards.resize(view.shard_count);
  for (uint32_t s = 0; s < view.shard_count; ++s) view.shards[s].status.shard = s;
  for (auto& row : rows) {
    if (row.shard < view.shard_count) view.shards[row.shard].status = std::move(row);
  }
  RETURN_IF_ERROR(CountOpenExecutions(store, &view));
  RETURN_IF_ERROR(CountInboxRows(store, &view));
  return view;
}

std::string ClusterViewJson(const ClusterView& view, int64_t live_ttl_ms) {
  std::map<std::string, int64_t> owned;
  for (const auto& s : view.shards) {
    if (!s.status.owner.empty() && s.status.lease_remaining_ms > 0) owned[s.status.owner]++;
  }
  JsonWriter w;
  w.BeginObject().Field("shard_count", static_cast<int64_t>(view.shard_count));
  w.Key("nodes").BeginArray();
  for (const auto& n : view.nodes) {
    w.BeginObject()
        .Field("node_id", n.node.node_id)
        .Field("address", n.node.address)
        .Field("heartbeat_age_ms", n.heartbeat_age_ms)
        .Field("live", n.heartbeat_age_ms < live_ttl_ms)
        .Field("shards_owned", owned[n.node.node_id])
        .EndObject();
  }
  w.EndArray().Key("shards").BeginArray();
  for (const auto& s : view.shards) {
    w.BeginObject()
        .Field("shard", static_cast<int64_t>(s.status.shard))
        .FieldOrNull("owner", s.status.lease_remaining_ms > 0 ? s.status.owner : "")
        .Field("range_id", s.status.range_id)
        .Field("lease_remaining_ms", std::max<int64_t>(0, s.status.lease_remaining_ms))
        .Field("open_executions", s.open_executions)
        .Field("inbox_rows", s.inbox_rows)
        .EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

}  // namespace papr::cluster
