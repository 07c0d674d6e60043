// The index as derived state over a real Db: queue -> segments exactly once, deletes,
// merges, catch-up after a restart, rebuild when lost, corrupt or of the retired layout.

#include "search/search_index.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "search/searcher.h"
#include "storage/keys.h"
#include "storage/memory_store.h"
#include "tests/search/brute_force_bm25.h"
#include "tests/storage/temp_dir.h"

namespace papr::search {
namespace {

using storage::Table;

class SearchIndexTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    store_.reset();
    index_.reset();
    db_.reset();
    storage::DbOptions options;
    options.path = dir_.Sub("db");
    options.sync_writes = false;
    auto db = storage::Db::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    SearchIndexOptions index_options;
    index_options.background = false;  // passes and merges by hand
    auto index = SearchIndex::Open(db_.get(), index_options);
    ASSERT_TRUE(index.ok()) << index.status().ToString();
    index_ = std::move(index).value();
    store_ = std::make_unique<storage::MemoryStore>(db_.get());
    store_->AttachIndex(index_.get());
  }

  // Stores a memory the way the engine does: staged into a batch, committed by the caller.
  void Stage(const std::string& id, const std::string& content, std::string scope = "") {
    storage::MemoryRecord r;
    r.user_id = "alice";
    r.id = id;
    r.content = content;
    r.external_user_id = std::move(scope);
    storage::WriteBatch batch;
    ASSERT_TRUE(store_->PrepareWrite(r, &batch).ok());
    ASSERT_TRUE(db_->Write(batch).ok());
  }

  size_t IndexAll() {
    auto n = index_->IndexQueued();
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : 0;
  }

  std::vector<std::string> Find(const std::string& query, size_t k = 10) {
    auto hits = index_->Search("alice", query, k);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    std::vector<std::string> ids;
    for (const auto& h : *hits) ids.push_back(h.memory_id);
    return ids;
  }

  size_t Rows(Table table) {
    size_t n = 0;
    EXPECT_TRUE(db_->ScanPrefix(table, "", [&](std::string_view, std::string_view) {
                      ++n;
                      return true;
                    }).ok());
    return n;
  }

  storage::testing::TempDir dir_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<SearchIndex> index_;
  std::unique_ptr<storage::MemoryStore> store_;
};

TEST_F(SearchIndexTest, QueuedMemoriesBecomeOneSegmentAndLeaveTheQueue) {
  Stage("m1", "harbour lighthouse");
  Stage("m2", "harbour crane", "end-user-7");
  EXPECT_TRUE(Find("harbour").empty());  // not taken in yet
  EXPECT_EQ(Rows(Table::kIndexQueue), 2u);
  EXPECT_EQ(IndexAll(), 2u);
  EXPECT_EQ(Rows(Table::kIndexQueue), 0u);
  EXPECT_EQ(index_->SegmentCount("alice"), 2u);  // one per scope
  EXPECT_EQ(Find("harbour"), (std::vector<std::string>{"m1", "m2"}));
  EXPECT_EQ(IndexAll(), 0u);  // each memory taken in once
  EXPECT_EQ(Find("harbour").size(), 2u);
}

// Search scoped to one end user (external_user_id) reads that scope's segments alone.
TEST_F(SearchIndexTest, AScopedSearchFindsThatEndUsersMemoriesOnly) {
  Stage("m1", "harbour lighthouse");
  Stage("m2", "harbour crane", "end-ann");
  Stage("m3", "harbour crane harbour", "end-ben");
  IndexAll();
  auto find = [&](std::optional<std::string_view> scope) {
    auto hits = index_->Search("alice", "harbour", 10, scope);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    std::vector<std::string> ids;
    for (const auto& h : *hits) ids.push_back(h.memory_id);
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  EXPECT_EQ(find("end-ann"), std::vector<std::string>{"m2"});
  EXPECT_EQ(find("end-ben"), std::vector<std::string>{"m3"});
  EXPECT_EQ(find(""), std::vector<std::string>{"m1"});
  EXPECT_TRUE(find("end-nobody").empty());
  EXPECT_EQ(find(std::nullopt), (std::vector<std::string>{"m1", "m2", "m3"}));
}

TEST_F(SearchIndexTest, RestartCatchesUpFromTheQueueExactlyOnce) {
  Stage("m1", "alpha beta");
  EXPECT_EQ(IndexAll(), 1u);
  Stage("m2", "alpha gamma");  // queued, not indexed: as if killed before the pass
  Reopen();
  EXPECT_EQ(Find("alpha"), std::vector<std::string>{"m1"});
  EXPECT_EQ(IndexAll(), 1u);
  EXPECT_EQ(Find("alpha"), (std::vector<std::string>{"m1", "m2"}));
  Reopen();
  EXPECT_EQ(IndexAll(), 0u);
  EXPECT_EQ(Find("alpha"), (std::vector<std::string>{"m1", "m2"}));
}

TEST_F(SearchIndexTest, DeletesVanishBeforeAndAfterIndexingAndAcrossRestartAndMerge) {
  Stage("m1", "zebra one");
  Stage("m2", "zebra two");
  ASSERT_TRUE(store_->Delete("alice", "m1").ok());  // still queued
  EXPECT_EQ(IndexAll(), 1u);
  EXPECT_EQ(Find("zebra"), std::vector<std::string>{"m2"});
  Stage("m3", "zebra three");
  IndexAll();
  ASSERT_TRUE(store_->Delete("alice", "m2").ok());  // in a segment: tombstone
  EXPECT_EQ(Find("zebra"), std::vector<std::string>{"m3"});
  Reopen();
  EXPECT_EQ(Find("zebra"), std::vector<std::string>{"m3"});
  // Ten small segments: the policy merges them and drops the tombstoned doc.
  for (int i = 0; i < 8; ++i) {
    Stage("n" + std::to_string(i), "filler");
    IndexAll();
  }
  ASSERT_EQ(index_->SegmentCount("alice"), 10u);
  auto merged = index_->MergeOnce();
  ASSERT_TRUE(merged.ok() && *merged) << merged.status().ToString();
  EXPECT_EQ(index_->SegmentCount("alice"), 1u);
  EXPECT_EQ(Find("zebra"), std::vector<std::string>{"m3"});
  EXPECT_EQ(Rows(Table::kSegments), 1u);  // the merged segment, no tombstone left
  Reopen();
  EXPECT_EQ(Find("zebra"), std::vector<std::string>{"m3"});
  EXPECT_EQ(Find("filler").size(), 8u);
}

TEST_F(SearchIndexTest, MergedIndexAnswersAsTheBruteForceOracle) {
  auto corpus = testing::GeneratedCorpus(3'000, 11);
  for (size_t i = 0; i < corpus.size(); ++i) {
    Stage(corpus[i].memory_id, corpus[i].content);
    if (i % 300 == 299) IndexAll();
  }
  ASSERT_EQ(index_->SegmentCount("alice"), 10u);
  auto queries = testing::GeneratedQueries(100, 12);
  testing::BruteForceIndex oracle(corpus);
  auto check = [&] {
    for (const auto& q : queries) {
      auto want = oracle.Search(QueryTerms(q), 10);
      auto got = index_->Search("alice", q, 10);
      ASSERT_TRUE(got.ok());
      ASSERT_EQ(got->size(), want.size()) << q;
      for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ((*got)[i].memory_id, want[i].memory_id) << q;
        EXPECT_DOUBLE_EQ((*got)[i].score, want[i].score) << q;
      }
    }
  };
  check();
  ASSERT_TRUE(*index_->MergeOnce());
  EXPECT_EQ(index_->SegmentCount("alice"), 1u);
  check();
}

TEST_F(SearchIndexTest, LostSegmentsAreRebuiltFromTheMemories) {
  Stage("m1", "orchid");
  Stage("m2", "orchid tulip");
  IndexAll();
  ASSERT_TRUE(db_->ScanPrefix(Table::kSegments, "", [&](std::string_view key, std::string_view) {
                    storage::WriteBatch batch;
                    batch.Delete(Table::kSegments, key);
                    EXPECT_TRUE(db_->Write(batch).ok());
                    return true;
                  }).ok());
  Reopen();
  IndexAll();
  EXPECT_EQ(Find("orchid"), (std::vector<std::string>{"m1", "m2"}));
}

TEST_F(SearchIndexTest, CorruptSegmentsAreRebuiltFromTheMemories) {
  Stage("m1", "orchid");
  IndexAll();
  std::string key;
  ASSERT_TRUE(db_->ScanPrefix(Table::kSegments, "", [&](std::string_view k, std::string_view) {
                    key = std::string(k);
                    return false;
                  }).ok());
  storage::WriteBatch batch;
  batch.Put(Table::kSegments, key, "PSG1garbage");
  ASSERT_TRUE(db_->Write(batch).ok());
  Reopen();
  IndexAll();
  EXPECT_EQ(Find("orchid"), std::vector<std::string>{"m1"});
}

TEST_F(SearchIndexTest, UpgradeFromPerPostingKeysDropsThemAndIndexesEveryMemory) {
  Stage("m1", "orchid");
  storage::WriteBatch batch;
  batch.Put(Table::kPostings, std::string("alice\0orchid\0m1", 15), "\x01\x01");
  batch.Delete(Table::kMeta, storage::MetaSearchIndexVersionKey());  // an old data dir
  ASSERT_TRUE(db_->Write(batch).ok());
  IndexAll();
  ASSERT_TRUE(db_->Write(batch).ok());
  Reopen();
  EXPECT_EQ(Rows(Table::kPostings), 0u);
  IndexAll();
  EXPECT_EQ(Find("orchid"), std::vector<std::string>{"m1"});
}

// A pass whose commit was applied but reported lost (the connection died in COMMIT): its
// segment is read back from the store before the next change, so the memory is found, once.
TEST_F(SearchIndexTest, PassWithUnknownOutcomeIsReadBackFromTheStore) {
  Stage("m1", "harbour lighthouse");
  db_->InjectLostConnectionForTest(/*applied=*/true);
  EXPECT_EQ(index_->IndexQueued().status().code(), StatusCode::kUnknownOutcome);
  EXPECT_EQ(Rows(Table::kIndexQueue), 0u);  // it was applied
  Stage("m2", "harbour crane");
  EXPECT_EQ(IndexAll(), 1u);
  auto found = Find("harbour");
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, (std::vector<std::string>{"m1", "m2"}));
}

// A pass that never reached the store leaves the queue as it was: the next pass takes it in.
TEST_F(SearchIndexTest, PassThatNeverReachedTheStoreIsRetaken) {
  Stage("m1", "harbour lighthouse");
  db_->InjectLostConnectionForTest(/*applied=*/false);
  EXPECT_EQ(index_->IndexQueued().status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(Rows(Table::kIndexQueue), 1u);
  EXPECT_EQ(IndexAll(), 1u);
  EXPECT_EQ(Find("harbour"), std::vector<std::string>{"m1"});
}

// A merge applied but reported lost: merging the stale inputs again would store every doc
// twice (the applied merge's segment and the new one).
TEST_F(SearchIndexTest, MergeWithUnknownOutcomeNeverStoresADocumentTwice) {
  for (int i = 0; i < 10; ++i) {
    Stage("n" + std::to_string(i), "filler");
    IndexAll();
  }
  db_->InjectLostConnectionForTest(/*applied=*/true);
  EXPECT_EQ(index_->MergeOnce().status().code(), StatusCode::kUnknownOutcome);
  (void)index_->MergeOnce();  // its inputs were merged away: it must not merge them again
  Stage("m1", "orchid");
  IndexAll();
  EXPECT_EQ(Find("filler", 50).size(), 10u);
  Reopen();
  EXPECT_EQ(Find("filler", 50).size(), 10u);
}

}  // namespace
}  // namespace papr::search
