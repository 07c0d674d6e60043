// Updates and bulk deletes through MemoryStore keep the index exact: whatever the indexer's
// passes saw (before, between or after the changes, in passes of any size), every memory is
// found once, with its current content, and scored as BM25 over the current corpus scores it.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/crypto.h"
#include "search/search_index.h"
#include "search/searcher.h"
#include "storage/memory_store.h"
#include "tests/search/brute_force_bm25.h"
#include "tests/storage/temp_dir.h"

namespace papr::search {
namespace {

class MemoryUpdateTest : public ::testing::Test {
 protected:
  void TearDown() override { Close(); }
  void Close() {
    store_.reset();
    index_.reset();
    db_.reset();
    corpus_.clear();
  }

  // A new, empty store each time.
  void Open(size_t max_docs_per_pass) {
    Close();
    storage::DbOptions options;
    options.path = dir_.Sub("db" + std::to_string(opened_++));
    options.sync_writes = false;
    auto db = storage::Db::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    SearchIndexOptions index_options;
    index_options.background = false;  // passes by hand
    index_options.await_timeout_ms = 0;
    index_options.max_docs_per_pass = max_docs_per_pass;
    auto index = SearchIndex::Open(db_.get(), index_options);
    ASSERT_TRUE(index.ok()) << index.status().ToString();
    index_ = std::move(index).value();
    store_ = std::make_unique<storage::MemoryStore>(db_.get());
    store_->AttachIndex(index_.get());
  }

  void Add(const std::string& id, const std::string& content, const std::string& scope = "") {
    storage::MemoryRecord r;
    r.user_id = "alice";
    r.id = id;
    r.content = content;
    r.content_hash = Sha256Hex(content);
    r.external_user_id = scope;
    storage::WriteBatch batch;
    ASSERT_TRUE(store_->PrepareWrite(r, &batch).ok());
    ASSERT_TRUE(db_->Write(batch).ok());
    corpus_[id] = content;
  }

  void Update(const std::string& id, const std::string& content) {
    auto updated = store_->Update("alice", id, [&](storage::MemoryRecord* r) {
      r->content = content;
      r->content_hash = Sha256Hex(content);
      return Status::Ok();
    });
    ASSERT_TRUE(updated.ok()) << updated.status().ToString();
    corpus_[id] = content;
  }

  // Passes until the queue is empty (a pass may take rows and index none of them).
  void IndexAll() {
    for (int i = 0; i < 100 && QueuedRows() > 0; ++i) {
      auto n = index_->IndexQueued();
      ASSERT_TRUE(n.ok()) << n.status().ToString();
    }
    EXPECT_EQ(QueuedRows(), 0u);
  }

  size_t QueuedRows() {
    size_t n = 0;
    EXPECT_TRUE(db_->ScanPrefix(storage::Table::kIndexQueue, "", [&](std::string_view,
                                                                     std::string_view) {
                      ++n;
                      return true;
                    }).ok());
    return n;
  }

  // Every query answers as the oracle over the current corpus: ids, order and scores.
  void ExpectExact(const std::vector<std::string>& queries, const std::string& what) {
    std::vector<testing::CorpusDoc> docs;
    for (const auto& [id, content] : corpus_) docs.push_back({id, content});
    testing::BruteForceIndex oracle(docs);
    for (const auto& q : queries) {
      auto want = oracle.Search(QueryTerms(q), 10);
      auto got = store_->Search("alice", q, 10);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_EQ(got->size(), want.size()) << what << ": " << q;
      for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ((*got)[i].memory.id, want[i].memory_id) << what << ": " << q;
        EXPECT_EQ((*got)[i].memory.content, corpus_[want[i].memory_id]) << what;
        EXPECT_NEAR((*got)[i].score, want[i].score, 1e-9) << what << ": " << q;
      }
    }
  }

  storage::testing::TempDir dir_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<SearchIndex> index_;
  std::unique_ptr<storage::MemoryStore> store_;
  std::map<std::string, std::string> corpus_;
  int opened_ = 0;
};

const std::vector<std::string> kQueries = {"apple", "banana", "cherry", "durian", "elder fig",
                                           "grape", "apple banana cherry"};

// Indexed before the updates or not, in passes of 1, 2 or all rows: a pass that reads a row
// of content since replaced must neither index the newer content twice nor tombstone it
// with the older content's terms.
TEST_F(MemoryUpdateTest, UpdatedMemoriesAreFoundOnceWithTheirNewContentWhateverThePasses) {
  for (size_t pass : {1u, 2u, 1000u}) {
    for (bool indexed_first : {false, true}) {
      SCOPED_TRACE("pass " + std::to_string(pass) + (indexed_first ? " indexed" : " queued"));
      Open(pass);
      Add("m1", "apple banana");
      Add("m2", "apple cherry cherry");
      Add("m3", "banana durian");
      Add("m4", "durian apple");
      if (indexed_first) IndexAll();
      Update("m1", "cherry elder fig");
      Update("m2", "apple banana");
      Update("m3", "grape");  // and back: the same content as the first row's
      Update("m3", "banana durian");
      IndexAll();
      ExpectExact(kQueries, "after the passes");
      ASSERT_TRUE(index_->MergeOnce().ok());
      ExpectExact(kQueries, "after a merge");
    }
  }
}

TEST_F(MemoryUpdateTest, AnUpdateOfMetadataAloneLeavesTheIndexAsItWas) {
  Open(1000);
  Add("m1", "apple banana");
  IndexAll();
  auto updated = store_->Update("alice", "m1", [](storage::MemoryRecord* r) {
    r->metadata_json = R"({"topics":["fruit"]})";
    return Status::Ok();
  });
  ASSERT_TRUE(updated.ok());
  auto queued = index_->IndexQueued();
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(*queued, 0u);  // nothing queued
  EXPECT_EQ(store_->Get("alice", "m1")->metadata_json, R"({"topics":["fruit"]})");
  ExpectExact(kQueries, "metadata only");
  auto moved = store_->Update("alice", "m1", [](storage::MemoryRecord* r) {
    r->external_user_id = "someone-else";
    return Status::Ok();
  });
  EXPECT_EQ(moved.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Update("alice", "nope", [](storage::MemoryRecord*) { return Status::Ok(); })
                .status()
                .code(),
            StatusCode::kNotFound);
}

TEST_F(MemoryUpdateTest, DeleteSomeTakesOneEndUsersMemoriesInPagesAndTheIndexAgrees) {
  Open(1000);
  for (int i = 0; i < 4; ++i) Add("ann" + std::to_string(i), "apple note " + std::to_string(i), "ann");
  IndexAll();
  for (int i = 0; i < 3; ++i) Add("own" + std::to_string(i), "apple banana " + std::to_string(i));
  EXPECT_EQ(*store_->DeleteSome("alice", std::string_view("ann"), 3), 3);
  EXPECT_EQ(*store_->DeleteSome("alice", std::string_view("ann"), 3), 1);
  EXPECT_EQ(*store_->DeleteSome("alice", std::string_view("ann"), 3), 0);
  for (int i = 0; i < 4; ++i) corpus_.erase("ann" + std::to_string(i));
  EXPECT_EQ(*store_->CountForUser("alice"), 3);
  IndexAll();
  ExpectExact(kQueries, "after the pass");
  EXPECT_EQ(*store_->DeleteSome("alice", std::nullopt, 2), 2);
  EXPECT_EQ(*store_->DeleteSome("alice", std::nullopt, 2), 1);
  EXPECT_EQ(*store_->CountForUser("alice"), 0);
  IndexAll();
  auto none = store_->Search("alice", "apple", 10);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace papr::search
