#include "cluster/cluster_node.h"

#include <vector>

#include "cluster/cluster_view.h"
#include "cluster/shard_count.h"
#include "cluster/shard_hash.h"
#include "common/log.h"

namespace papr::cluster {
namespace {

std::function<bool(const std::string&)> InShard(uint32_t shard, uint32_t count) {
  return [shard, count](const std::string& id) { return ShardOf(id, count) == shard; };
}

}  // namespace

Result<std::unique_ptr<ClusterNode>> ClusterNode::Create(storage::Store* store,
                                                         ClusterNodeOptions options) {
  ASSIGN_OR_RETURN(const uint32_t shards, EnsureShardCount(*store, options.membership.shards));
  return std::unique_ptr<ClusterNode>(new ClusterNode(store, std::move(options), shards));
}

ClusterNode::ClusterNode(storage::Store* store, ClusterNodeOptions options, uint32_t shards)
    : store_(store), options_(std::move(options)), table_(shards) {
  MembershipOptions m = options_.membership;
  m.shards = shards;
  table_.SetHooks({[this](uint32_t s) { Acquired(s); }, [this](uint32_t s) { Dropped(s); }});
  membership_ = std::make_unique<Membership>(store_, m, &table_);
}

ClusterNode::~ClusterNode() { Stop(); }

void ClusterNode::ConfigureEngine(engine::EngineOptions* options) const {
  const ShardTable* table = &table_;
  options->fence_of = [table](const std::string& id) { return table->FenceOf(id); };
  const uint32_t count = table_.shard_count();
  options->shard_of = [count](const std::string& id) { return ShardOf(id, count); };
}

void ClusterNode::Start(engine::Engine* engine) {
  {
    std::lock_guard lock(mu_);
    if (engine_ != nullptr || stopping_) return;
    engine_ = engine;
  }
  drainers_ = std::make_unique<ShardDrainers>(kDrainerThreads,
                                              [this](uint32_t shard) { DrainShard(shard); });
  poller_ = std::thread([this] { PollLoop(); });
  listener_ = std::thread([this] { ListenLoop(); });
  follower_ = std::thread([this] { FollowLoop(); });
  membership_->Start();
  log::Info("cluster node joined", {{"node_id", node_id()},
                                    {"shards", std::to_string(table_.shard_count())}});
}

void ClusterNode::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  closed_wake_.notify_all();
  if (poller_.joinable()) poller_.join();
  if (listener_.joinable()) listener_.join();
  if (follower_.joinable()) follower_.join();
  if (drainers_ != nullptr) drainers_->Stop();
  membership_->Stop();  // lets every shard go: Dropped, then the release
  log::Info("cluster node left", {{"node_id", node_id()}});
}

// From the membership's tick: the resume runs on the poller, so a shard with much to replay
// does not hold up the renewal of the others' leases.
void ClusterNode::Acquired(uint32_t shard) {
  {
    std::lock_guard lock(mu_);
    to_resume_.insert(shard);
    acquired_total_++;
  }
  wake_.notify_all();
}

void ClusterNode::Dropped(uint32_t shard) {
  {
    std::lock_guard lock(mu_);
    to_resume_.erase(shard);
    serving_.erase(shard);
    lost_total_++;
  }
  if (engine_ != nullptr) engine_->DropWhere(InShard(shard, table_.shard_count()));
}

// Every inbox_poll: all serving shards' inboxes and the executions watched remotely; at
// once: a shard acquired or notified.
void ClusterNode::PollLoop() {
  auto last_full = std::chrono::steady_clock::now() - options_.inbox_poll;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    ServeAcquired();
    const bool full = std::chrono::steady_clock::now() - last_full >= options_.inbox_poll;
    DrainServed(full);
    if (full) last_full = std::chrono::steady_clock::now();
    lock.lock();
    wake_.wait_for(lock, options_.inbox_poll, [this] {
      return stopping_ || !to_resume_.empty() || !notified_.empty();
    });
  }
}

// Follows executions run elsewhere on a thread of its own, so that their reads never hold up
// the starts posted to this node: those announced closed at once, all every inbox_poll.
void ClusterNode::FollowLoop() {
  auto last_full = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  while (!stopping_) {
    std::vector<std::string> closed;
    closed.swap(closed_);
    const bool full = std::chrono::steady_clock::now() - last_full >= options_.inbox_poll;
    lock.unlock();
    if (full) {
      engine_->PollRemote();
      last_full = std::chrono::steady_clock::now();
    } else if (!closed.empty()) {
      engine_->PollRemote(closed);
    }
    lock.lock();
    closed_wake_.wait_for(lock, options_.inbox_poll,
                          [this] { return stopping_ || !closed_.empty(); });
  }
}

void ClusterNode::ListenLoop() {
  constexpr auto kWait = std::chrono::milliseconds(500);  // how soon Stop is seen
  std::unique_ptr<storage::InboxListener> listener;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    if (listener == nullptr) {
      auto made = store_->ListenForInbox();
      if (made.ok()) listener = std::move(made).value();
    }
    Result<storage::ClusterNotices> notices = storage::ClusterNotices{};
    if (listener != nullptr) notices = listener->Wait(kWait);
    if (!notices.ok()) listener.reset();  // reconnects next round; polling covers the gap
    lock.lock();
    if (listener == nullptr) {
      wake_.wait_for(lock, kWait, [this] { return stopping_; });
      continue;
    }
    if (!notices.ok() || notices->empty()) continue;
    notified_.insert(notices->inbox_shards.begin(), notices->inbox_shards.end());
    closed_.insert(closed_.end(), std::make_move_iterator(notices->closed.begin()),
                   std::make_move_iterator(notices->closed.end()));
    if (!notices->inbox_shards.empty()) wake_.notify_all();
    if (!closed_.empty()) closed_wake_.notify_all();
  }
}

void ClusterNode::ServeAcquired() {
  std::set<uint32_t> pending;
  {
    std::lock_guard lock(mu_);
    pending.swap(to_resume_);
  }
  for (uint32_t shard : pending) {
    auto resumed = engine_->ResumeWhere(InShard(shard, table_.shard_count()));
    std::lock_guard lock(mu_);
    if (!table_.Owns(shard)) continue;  // lost meanwhile
    if (!resumed.ok()) {
      resume_failures_++;
      to_resume_.insert(shard);  // the next round tries again
      log::Warn("resuming an acquired shard failed", {{"shard", std::to_string(shard)},
                                                      {"error", resumed.status().ToString()}});
      continue;
    }
    serving_.insert(shard);
    notified_.insert(shard);  // its inbox is read at once, not at the next full round
  }
}

void ClusterNode::DrainServed(bool all) {
  std::vector<uint32_t> shards;
  {
    std::lock_guard lock(mu_);
    for (uint32_t shard : all ? serving_ : notified_) {
      if (serving_.contains(shard)) shards.push_back(shard);
    }
    notified_.clear();
  }
  for (uint32_t shard : shards) drainers_->Enqueue(shard);
}

void ClusterNode::DrainShard(uint32_t shard) {
  auto drained = engine_->DrainInbox(shard);
  if (!drained.ok() && drained.status().code() != StatusCode::kOwnershipLost) {
    log::Warn("applying posted requests failed",
              {{"shard", std::to_string(shard)}, {"error", drained.status().ToString()}});
  }
}

Result<std::string> ClusterNode::ViewJson() const {
  ASSIGN_OR_RETURN(ClusterView view, ReadClusterView(*store_));
  return ClusterViewJson(view, options_.membership.lease_ttl.count());
}

// Rows waiting in the inboxes of the shards this node owns (a bounded read: -1 past 10,000 or
// when the database does not answer).
int64_t ClusterNode::InboxRowsOwned() const {
  constexpr int kPages = 10;
  int64_t rows = 0;
  std::string start;
  for (int page = 0; page < kPages; ++page) {
    auto read = store_->Scan(storage::Table::kInbox, start, "", 1000);
    if (!read.ok()) return -1;
    for (const auto& [key, value] : read->rows) {
      if (key.size() < 2) continue;
      rows += table_.Owns((static_cast<uint8_t>(key[0]) << 8) | static_cast<uint8_t>(key[1]));
    }
    if (!read->resume_key) return rows;
    start = *read->resume_key;
  }
  return -1;
}

std::string ClusterNode::MetricsText() const {
  const int64_t inbox_rows = InboxRowsOwned();
  std::lock_guard lock(mu_);
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help, int64_t value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
           name + " " + std::to_string(value) + "\n";
  };
  metric("papr_cluster_shards_owned", "gauge", "Shards whose lease this node holds.",
         static_cast<int64_t>(table_.OwnedCount()));
  metric("papr_cluster_shards_serving", "gauge", "Owned shards resumed and serving.",
         static_cast<int64_t>(serving_.size()));
  metric("papr_cluster_shards", "gauge", "Shards of the cluster.", table_.shard_count());
  metric("papr_cluster_shard_acquisitions_total", "counter", "Shard leases this node acquired.",
         acquired_total_);
  metric("papr_cluster_shard_losses_total", "counter",
         "Shards this node let go of or lost (handovers, lapsed or fenced leases).", lost_total_);
  metric("papr_cluster_shard_resume_failures_total", "counter",
         "Resumes of an acquired shard that failed and were retried.", resume_failures_);
  metric("papr_cluster_inbox_rows", "gauge",
         "Requests posted for this node's shards and not applied yet (-1: over 10,000 or "
         "unknown).",
         inbox_rows);
  return out;
}

}  // namespace papr::cluster
