// Cluster mode of the search index over one real Db: two nodes' indexes share it, one writes
// (the holder of the writer fence) and the other follows its catalog log; queue sequences
// never collide; deletions on the follower are queued for the writer; the role moves.

#include <algorithm>
#include <atomic>

#include <gtest/gtest.h>

#include "search/catalog_log.h"
#include "search/search_index.h"
#include "storage/keys.h"
#include "storage/memory_store.h"
#include "tests/storage/temp_dir.h"

namespace papr::search {
namespace {

// "<prefix><n>" (a helper: GCC 12 warns falsely on "x" + std::to_string(n)).
std::string Id(std::string prefix, size_t n) { return prefix.append(std::to_string(n)); }

struct Node {
  std::atomic<int64_t> writer_range{0};  // 0: not the writer
  std::unique_ptr<SearchIndex> index;
  std::unique_ptr<storage::MemoryStore> store;
};

class ClusteredIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::DbOptions options;
    options.path = dir_.Sub("db");
    options.sync_writes = false;
    auto db = storage::Db::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    for (auto* node : {&a_, &b_}) {
      SearchIndexOptions o;
      o.background = false;  // passes and merges by hand
      o.writer_fence = [node]() -> std::optional<storage::Fence> {
        int64_t range = node->writer_range.load();
        if (range == 0) return std::nullopt;
        return storage::Fence{0, range};
      };
      auto index = SearchIndex::Open(db_.get(), o);
      ASSERT_TRUE(index.ok()) << index.status().ToString();
      node->index = std::move(index).value();
      node->store = std::make_unique<storage::MemoryStore>(db_.get());
      node->store->AttachIndex(node->index.get());
    }
    a_.writer_range = 1;
  }

  void TearDown() override {
    for (auto* node : {&a_, &b_}) {
      node->store.reset();
      node->index.reset();
    }
  }

  void Stage(Node& node, const std::string& id, const std::string& content) {
    storage::MemoryRecord r;
    r.user_id = "alice";
    r.id = id;
    r.content = content;
    storage::WriteBatch batch;
    ASSERT_TRUE(node.store->PrepareWrite(r, &batch).ok());
    ASSERT_TRUE(db_->Write(batch).ok());
  }

  size_t Pass(Node& node) {
    auto n = node.index->IndexQueued();
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : 0;
  }

  std::vector<std::string> Find(Node& node, const std::string& query) {
    auto hits = node.index->Search("alice", query, 1000);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    std::vector<std::string> ids;
    for (const auto& h : *hits) ids.push_back(h.memory_id);
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  size_t QueueRows() {
    size_t n = 0;
    EXPECT_TRUE(db_->ScanPrefix(storage::Table::kIndexQueue, "", [&](auto, auto) {
                      ++n;
                      return true;
                    }).ok());
    return n;
  }

  storage::testing::TempDir dir_;
  std::unique_ptr<storage::Db> db_;
  Node a_, b_;
};

TEST_F(ClusteredIndexTest, BothNodesQueueMemoriesTheWriterTakesInOnceAndTheFollowerSeesThem) {
  for (int i = 0; i < 3; ++i) Stage(a_, Id("a", i), "harbour crane");
  for (int i = 0; i < 3; ++i) Stage(b_, Id("b", i), "harbour crane");
  EXPECT_EQ(QueueRows(), 6u);  // the nodes' queue sequences never overwrite each other
  EXPECT_EQ(Pass(b_), 0u);     // the follower takes nothing in
  EXPECT_EQ(QueueRows(), 6u);
  EXPECT_EQ(Pass(a_), 6u);
  EXPECT_EQ(QueueRows(), 0u);
  EXPECT_EQ(Pass(a_), 0u);
  const std::vector<std::string> all = {"a0", "a1", "a2", "b0", "b1", "b2"};
  EXPECT_EQ(Find(a_, "harbour"), all);
  EXPECT_TRUE(Find(b_, "harbour").empty());  // not followed yet
  EXPECT_EQ(Pass(b_), 0u);
  EXPECT_EQ(Find(b_, "harbour"), all);  // each memory once
  EXPECT_EQ(Pass(b_), 0u);
  EXPECT_EQ(Find(b_, "harbour"), all);
}

TEST_F(ClusteredIndexTest, AFollowersDeletionIsTombstonedByTheWriterAndSurvivesAMerge) {
  Stage(a_, "m0", "zebra stripe");
  Stage(b_, "m1", "zebra mane");
  Pass(a_);
  Pass(b_);
  ASSERT_TRUE(b_.store->Delete("alice", "m0").ok());
  EXPECT_EQ(QueueRows(), 1u);  // queued for the writer, not tombstoned by the follower
  Pass(a_);
  Pass(b_);
  EXPECT_EQ(Find(a_, "zebra"), std::vector<std::string>{"m1"});
  EXPECT_EQ(Find(b_, "zebra"), std::vector<std::string>{"m1"});
  for (int i = 0; i < 9; ++i) {  // small segments the policy merges
    Stage(i % 2 ? a_ : b_, Id("f", i), "filler zebra");
    Pass(a_);
  }
  auto merged = a_.index->MergeOnce();
  ASSERT_TRUE(merged.ok() && *merged) << merged.status().ToString();
  auto follower_merges = b_.index->MergeOnce();
  ASSERT_TRUE(follower_merges.ok());
  EXPECT_FALSE(*follower_merges);  // only the writer merges
  Pass(b_);
  EXPECT_EQ(b_.index->SegmentCount("alice"), a_.index->SegmentCount("alice"));
  EXPECT_LT(a_.index->SegmentCount("alice"), 10u);
  EXPECT_EQ(Find(b_, "zebra"), Find(a_, "zebra"));
  EXPECT_EQ(Find(b_, "zebra").size(), 10u);  // m1 and the nine fillers, m0 gone
}

TEST_F(ClusteredIndexTest, TheWriterRoleMovesAndTheNewWriterContinuesFromTheStore) {
  Stage(a_, "m0", "lantern");
  Pass(a_);
  a_.writer_range = 0;  // a's lease lapsed; b took shard 0 at the next range
  b_.writer_range = 2;
  Stage(a_, "m1", "lantern");
  Stage(b_, "m2", "lantern");
  EXPECT_EQ(Pass(a_), 0u);
  EXPECT_EQ(Pass(b_), 2u);
  Pass(a_);
  const std::vector<std::string> all = {"m0", "m1", "m2"};
  EXPECT_EQ(Find(b_, "lantern"), all);
  EXPECT_EQ(Find(a_, "lantern"), all);
}

TEST_F(ClusteredIndexTest, AFollowerFarBehindTheLogReloadsTheWholeCatalog) {
  Pass(b_);
  const size_t passes = kCatalogLogKept + 10;
  for (size_t i = 0; i < passes; ++i) {
    Stage(a_, Id("m", i), "beacon");
    ASSERT_EQ(Pass(a_), 1u);
  }
  EXPECT_EQ(Pass(b_), 0u);
  EXPECT_EQ(Find(b_, "beacon").size(), passes);
  EXPECT_EQ(Find(b_, "beacon"), Find(a_, "beacon"));
}

}  // namespace
}  // namespace papr::search
