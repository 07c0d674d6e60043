// Membership and shard leases between nodes (Membership objects, each on its own
// PostgresStore: its own connections) over one real PostgreSQL database.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cluster/membership.h"
#include "cluster/rendezvous.h"
#include "cluster/shard_count.h"
#include "storage/keys.h"
#include "tests/storage/store_fixture.h"

namespace papr::cluster {
namespace {

using std::chrono::milliseconds;
using storage::testing::Backend;

constexpr uint32_t kShards = 16;

//! Records what Membership tells the node.
class RecordingOwner final : public ShardOwner {
 public:
  void ShardAcquired(const storage::ShardLease& lease) override {
    std::lock_guard<std::mutex> lock(mu_);
    serving_[lease.shard] = lease;
    acquired_++;
  }
  void ShardDropped(uint32_t shard, bool handover) override {
    std::lock_guard<std::mutex> lock(mu_);
    serving_.erase(shard);
    (handover ? handed_over_ : lost_)++;
  }
  std::set<uint32_t> Serving() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::set<uint32_t> out;
    for (const auto& entry : serving_) out.insert(entry.first);
    return out;
  }
  std::map<uint32_t, storage::ShardLease> Leases() const {
    std::lock_guard<std::mutex> lock(mu_);
    return serving_;
  }
  int lost() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lost_;
  }
  int handed_over() const {
    std::lock_guard<std::mutex> lock(mu_);
    return handed_over_;
  }

 private:
  mutable std::mutex mu_;
  std::map<uint32_t, storage::ShardLease> serving_;
  int acquired_ = 0, handed_over_ = 0, lost_ = 0;
};

struct Node {
  std::unique_ptr<storage::Store> store;
  RecordingOwner owner;
  std::unique_ptr<Membership> membership;
};

class MembershipTest : public storage::testing::StoreFixture, public ::testing::Test {
 protected:
  void SetUp() override { OpenStore(Backend::kPostgres); }

  std::unique_ptr<Node> StartNode(const std::string& id, milliseconds ttl = milliseconds(60000)) {
    auto node = std::make_unique<Node>();
    node->store = OpenPgNode();
    MembershipOptions options;
    options.node = storage::NodeInfo{id, "127.0.0.1:0"};
    options.shards = kShards;
    options.lease_ttl = ttl;
    node->membership = std::make_unique<Membership>(node->store.get(), options, &node->owner);
    return node;
  }

  static std::set<uint32_t> Assigned(const std::vector<std::string>& nodes, const std::string& id) {
    std::set<uint32_t> out;
    for (uint32_t s = 0; s < kShards; ++s) {
      if (nodes[RendezvousOwner(s, nodes)] == id) out.insert(s);
    }
    return out;
  }

  static std::set<uint32_t> All() {
    std::set<uint32_t> out;
    for (uint32_t s = 0; s < kShards; ++s) out.insert(s);
    return out;
  }
};

TEST_F(MembershipTest, ASecondNodeGetsItsShareOnceTheFirstLetsGo) {
  auto a = StartNode("node-a");
  ASSERT_OK(a->membership->Tick());
  EXPECT_EQ(a->owner.Serving(), All());  // alone: every shard

  auto b = StartNode("node-b");
  ASSERT_OK(b->membership->Tick());  // its shards are a's, leased: it waits
  EXPECT_TRUE(b->owner.Serving().empty());
  ASSERT_OK(a->membership->Tick());  // a sees b and lets b's shards go
  ASSERT_OK(b->membership->Tick());
  const std::vector<std::string> both{"node-a", "node-b"};
  EXPECT_EQ(a->owner.Serving(), Assigned(both, "node-a"));
  EXPECT_EQ(b->owner.Serving(), Assigned(both, "node-b"));
  EXPECT_FALSE(b->owner.Serving().empty());
  EXPECT_EQ(a->owner.handed_over(), static_cast<int>(b->owner.Serving().size()));
  // A handed-over shard has a new fencing epoch: a's lease of it fences nothing any more.
  for (const auto& [shard, lease] : b->owner.Leases()) EXPECT_GE(lease.range_id, 2) << shard;
}

TEST_F(MembershipTest, AStoppedNodesShardsAreTakenAtOnce) {
  auto a = StartNode("node-a");
  auto b = StartNode("node-b");
  for (int round = 0; round < 2; ++round) {
    ASSERT_OK(a->membership->Tick());
    ASSERT_OK(b->membership->Tick());
  }
  ASSERT_FALSE(b->owner.Serving().empty());
  b->membership->Stop();  // SIGTERM: leases released, node removed
  EXPECT_TRUE(b->owner.Serving().empty());
  ASSERT_OK(a->membership->Tick());
  EXPECT_EQ(a->owner.Serving(), All());
  auto live = a->store->LiveNodes(milliseconds(60000));
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  ASSERT_EQ(live->size(), 1u);
  EXPECT_EQ((*live)[0].node_id, "node-a");
}

// kill -9 (b stops ticking) then a zombie (b ticks again later): a takes b's shards once b's
// heartbeat and leases are older than the TTL; b's renewals then fail, b drops the shards,
// and b's commits under its old leases are refused.
TEST_F(MembershipTest, ADeadNodesShardsAreTakenAfterTheTtlAndItsLateCommitsAreFenced) {
  const milliseconds ttl(800);
  auto a = StartNode("node-a", ttl);
  auto b = StartNode("node-b", ttl);
  for (int round = 0; round < 2; ++round) {
    ASSERT_OK(a->membership->Tick());
    ASSERT_OK(b->membership->Tick());
  }
  std::map<uint32_t, storage::ShardLease> b_leases = b->owner.Leases();
  ASSERT_FALSE(b_leases.empty());
  ASSERT_OK(a->membership->Tick());
  EXPECT_EQ(a->owner.Serving().size(), kShards - b_leases.size());  // b is still live

  std::this_thread::sleep_for(ttl + milliseconds(400));
  ASSERT_OK(a->membership->Tick());  // b is not live now; its leases have expired
  EXPECT_EQ(a->owner.Serving(), All());

  ASSERT_OK(b->membership->Tick());  // the zombie wakes up
  EXPECT_EQ(b->owner.lost(), static_cast<int>(b_leases.size()));
  for (const auto& [shard, lease] : b_leases) {
    storage::Batch late;
    late.Put(storage::Table::kHistory, storage::HistoryKey("late", shard), "event");
    late.SetFence(lease.fence());
    EXPECT_EQ(b->store->Write(late).code(), StatusCode::kOwnershipLost) << shard;
  }
}

TEST_F(MembershipTest, StartTicksOnItsOwnThreadAndStopLetsEverythingGo) {
  auto a = StartNode("node-a");
  MembershipOptions options;
  options.node = storage::NodeInfo{"node-t", "127.0.0.1:0"};
  options.shards = kShards;
  options.heartbeat_interval = milliseconds(50);
  RecordingOwner owner;
  Membership ticking(store_.get(), options, &owner);
  ticking.Start();
  for (int i = 0; i < 500 && owner.Serving() != All(); ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(owner.Serving(), All());
  EXPECT_EQ(ticking.Held().size(), kShards);
  ticking.Stop();
  EXPECT_TRUE(ticking.Held().empty());
  EXPECT_TRUE(owner.Serving().empty());
  EXPECT_EQ(ticking.Tick().code(), StatusCode::kFailedPrecondition);  // stopped for good
  ASSERT_OK(a->membership->Tick());  // released: taken at once
  EXPECT_EQ(a->owner.Serving(), All());
}

TEST_F(MembershipTest, TheShardCountIsFixedByTheFirstStart) {
  auto first = EnsureShardCount(*store_, 64);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, 64u);
  auto again = EnsureShardCount(*store_, 64);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto changed = EnsureShardCount(*store_, 32);
  EXPECT_EQ(changed.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(changed.status().message().find("has 64 shards"), std::string::npos)
      << changed.status().message();
  EXPECT_EQ(EnsureShardCount(*store_, 0).status().code(), StatusCode::kFailedPrecondition);
}

TEST(MembershipOnRocksDbTest, AnEmbeddedStoreHasNoMembers) {
  storage::testing::TempDir dir;
  storage::DbOptions options;
  options.path = dir.Sub("db");
  auto store = storage::RocksDbStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Status heartbeat = (*store)->Heartbeat(storage::NodeInfo{"node-a", "127.0.0.1:0"});
  EXPECT_EQ(heartbeat.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(heartbeat.message().find("storage.backend: postgres"), std::string::npos)
      << heartbeat.message();
}

}  // namespace
}  // namespace papr::cluster
