// Which shard a workflow is in, and which node a shard goes to.
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cluster/rendezvous.h"
#include "cluster/shard_hash.h"

namespace papr::cluster {
namespace {

TEST(ShardHashTest, ChildrenShareTheirRootsShard) {
  EXPECT_EQ(RootOf("batch-1/chunk-7"), "batch-1");
  EXPECT_EQ(RootOf("batch-1"), "batch-1");
  EXPECT_EQ(RootOf(""), "");
  for (int i = 0; i < 100; ++i) {
    std::string root = "b" + std::to_string(i);
    EXPECT_EQ(ShardOf(root + "/chunk-" + std::to_string(i), 64), ShardOf(root, 64));
  }
}

TEST(ShardHashTest, SpreadsIdsEvenlyOverShards) {
  std::vector<int> per_shard(64, 0);
  for (int i = 0; i < 64000; ++i) per_shard[ShardOf("batch-" + std::to_string(i), 64)]++;
  for (int shard = 0; shard < 64; ++shard) {
    EXPECT_GT(per_shard[shard], 850) << shard;  // 1,000 expected
    EXPECT_LT(per_shard[shard], 1150) << shard;
  }
}

// Stored executions are in shards by this hash: a change of it would strand them. The values
// are FNV-1a 64 then splitmix64's finaliser, computed apart from this code.
TEST(ShardHashTest, HashIsPinned) {
  EXPECT_EQ(StableHash(""), 0xf52a15e9a9b5e89bULL);
  EXPECT_EQ(StableHash("batch-1"), 0xd0c2660472ec44bbULL);
  EXPECT_EQ(ShardOf("batch-1/chunk-3", 64), 59u);
}

std::vector<size_t> Owners(const std::vector<std::string>& nodes, uint32_t shards) {
  std::vector<size_t> owners;
  for (uint32_t s = 0; s < shards; ++s) owners.push_back(RendezvousOwner(s, nodes));
  return owners;
}

TEST(RendezvousTest, EveryNodeGetsAFairShare) {
  std::vector<std::string> nodes{"node-a", "node-b", "node-c", "node-d"};
  std::vector<int> count(nodes.size(), 0);
  for (size_t owner : Owners(nodes, 4096)) count[owner]++;
  for (size_t i = 0; i < nodes.size(); ++i) {
    EXPECT_GT(count[i], 850) << nodes[i];  // 1,024 expected
    EXPECT_LT(count[i], 1200) << nodes[i];
  }
}

TEST(RendezvousTest, TheAnswerDoesNotDependOnTheListsOrder) {
  std::vector<std::string> nodes{"node-a", "node-b", "node-c"};
  std::vector<std::string> reversed(nodes.rbegin(), nodes.rend());
  for (uint32_t s = 0; s < 256; ++s) {
    EXPECT_EQ(nodes[RendezvousOwner(s, nodes)], reversed[RendezvousOwner(s, reversed)]) << s;
  }
}

TEST(RendezvousTest, AJoiningNodeTakesShardsOnlyForItselfAndALeavingOneGivesOnlyItsOwn) {
  std::vector<std::string> three{"node-a", "node-b", "node-c"};
  std::vector<std::string> four{"node-a", "node-b", "node-c", "node-d"};
  auto before = Owners(three, 1024);
  auto after = Owners(four, 1024);
  int moved = 0;
  for (uint32_t s = 0; s < 1024; ++s) {
    if (before[s] == after[s]) continue;
    EXPECT_EQ(four[after[s]], "node-d") << s;  // a shard that moves goes to the newcomer
    ++moved;
  }
  EXPECT_GT(moved, 200);  // a quarter (256) expected
  EXPECT_LT(moved, 320);
  // node-b leaves: only its shards move.
  std::vector<std::string> without_b{"node-a", "node-c", "node-d"};
  auto left = Owners(without_b, 1024);
  for (uint32_t s = 0; s < 1024; ++s) {
    if (four[after[s]] != "node-b") EXPECT_EQ(without_b[left[s]], four[after[s]]) << s;
  }
}

}  // namespace
}  // namespace papr::cluster
