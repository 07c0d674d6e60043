#include "storage/memory_store.h"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "search/search_index.h"
#include "storage/keys.h"
#include "tests/storage/temp_dir.h"

namespace papr::storage {
namespace {

using testing::TempDir;

MemoryRecord Memory(std::string user, std::string id, std::string content) {
  MemoryRecord r;
  r.user_id = std::move(user);
  r.id = std::move(id);
  r.content = std::move(content);
  r.created_at_ms = 1000;
  r.keywords = {"k"};
  return r;
}

std::string MemId(int i) {
  std::string id = "m";
  id += std::to_string(i);
  return id;
}

std::vector<std::string> Ids(const std::vector<ScoredMemory>& results) {
  std::vector<std::string> ids;
  for (const auto& r : results) ids.push_back(r.memory.id);
  return ids;
}

class MemoryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    store_.reset();
    index_.reset();
    db_.reset();
    DbOptions options;
    options.path = dir_.Sub("db");
    options.sync_writes = false;
    auto db = Db::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto index = search::SearchIndex::Open(db_.get());
    ASSERT_TRUE(index.ok()) << index.status().ToString();
    index_ = std::move(index).value();
    store_ = std::make_unique<MemoryStore>(db_.get());
    store_->AttachIndex(index_.get());
  }

  bool PutOrDie(const MemoryRecord& r) {
    auto put = store_->Put(r);
    EXPECT_TRUE(put.ok()) << put.status().ToString();
    return put.ok() && *put;
  }

  std::vector<ScoredMemory> SearchOrDie(std::string_view user, std::string_view query,
                                        size_t k = 10) {
    auto results = store_->Search(user, query, k);
    EXPECT_TRUE(results.ok()) << results.status().ToString();
    return results.ok() ? std::move(results).value() : std::vector<ScoredMemory>{};
  }

  int64_t Count(std::string_view user) {
    auto n = store_->CountForUser(user);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }

  TempDir dir_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<search::SearchIndex> index_;
  std::unique_ptr<MemoryStore> store_;
};

TEST_F(MemoryStoreTest, PutThenGet) {
  MemoryRecord r = Memory("alice", "m1", "Remember the milk");
  r.metadata_json = R"({"a":1})";
  EXPECT_TRUE(PutOrDie(r));
  auto got = store_->Get("alice", "m1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, r);
  EXPECT_EQ(Count("alice"), 1);
  EXPECT_TRUE(store_->Get("alice", "m2").status().IsNotFound());
}

TEST_F(MemoryStoreTest, SecondPutIsIdempotent) {
  EXPECT_TRUE(PutOrDie(Memory("alice", "m1", "first version of the text")));
  auto stats_before = db_->GetCounters(Table::kUserStats, UserStatsKey("alice"));
  EXPECT_FALSE(PutOrDie(Memory("alice", "m1", "a different second version")));
  EXPECT_EQ(Count("alice"), 1);
  EXPECT_EQ(*db_->GetCounters(Table::kUserStats, UserStatsKey("alice")), *stats_before);
  EXPECT_EQ(store_->Get("alice", "m1")->content, "first version of the text");
  EXPECT_TRUE(SearchOrDie("alice", "different").empty());
}

TEST_F(MemoryStoreTest, ConcurrentPutsOfOneIdStoreItOnce) {
  std::atomic<int> written{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      auto put = store_->Put(Memory("alice", "same", "racing writers"));
      if (put.ok() && *put) ++written;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(written.load(), 1);
  EXPECT_EQ(Count("alice"), 1);
}

TEST_F(MemoryStoreTest, DeleteRemovesMemoryFromSearchAndStats) {
  EXPECT_TRUE(PutOrDie(Memory("alice", "m1", "zebra crossing")));
  EXPECT_TRUE(PutOrDie(Memory("alice", "m2", "zebra stripes")));
  ASSERT_TRUE(store_->Delete("alice", "m1").ok());
  EXPECT_TRUE(store_->Get("alice", "m1").status().IsNotFound());
  EXPECT_EQ(Ids(SearchOrDie("alice", "zebra crossing")), std::vector<std::string>{"m2"});
  EXPECT_EQ(Count("alice"), 1);
  EXPECT_EQ(*db_->GetCounters(Table::kUserStats, UserStatsKey("alice")),
            std::make_pair(int64_t{1}, int64_t{2}));
  // No key per posting any more (the retired kPostings layout): the index is segments.
  int postings = 0;
  ASSERT_TRUE(db_->ScanPrefix(Table::kPostings, "", [&](std::string_view, std::string_view) {
                    ++postings;
                    return true;
                  }).ok());
  EXPECT_EQ(postings, 0);
  EXPECT_TRUE(store_->Delete("alice", "m1").IsNotFound());
  // Deleted ids can be stored again.
  EXPECT_TRUE(PutOrDie(Memory("alice", "m1", "zebra again")));
  EXPECT_EQ(Ids(SearchOrDie("alice", "zebra again")), (std::vector<std::string>{"m1", "m2"}));
  ASSERT_TRUE(store_->Delete("alice", "m1").ok());
  EXPECT_EQ(Ids(SearchOrDie("alice", "zebra again")), std::vector<std::string>{"m2"});
}

TEST_F(MemoryStoreTest, UsersAreIsolated) {
  EXPECT_TRUE(PutOrDie(Memory("alice", "m1", "alice secret plans")));
  EXPECT_TRUE(store_->Get("bob", "m1").status().IsNotFound());
  EXPECT_TRUE(SearchOrDie("bob", "secret plans").empty());
  EXPECT_TRUE(store_->Delete("bob", "m1").IsNotFound());
  EXPECT_EQ(Count("bob"), 0);
  // The same id for another user is a different memory.
  EXPECT_TRUE(PutOrDie(Memory("bob", "m1", "bob public notes")));
  EXPECT_EQ(store_->Get("alice", "m1")->content, "alice secret plans");
  EXPECT_EQ(Ids(SearchOrDie("alice", "secret")), std::vector<std::string>{"m1"});
  EXPECT_TRUE(SearchOrDie("alice", "public").empty());
  // A user id that is a prefix of another sees nothing of it.
  EXPECT_TRUE(SearchOrDie("ali", "secret").empty());
}

TEST_F(MemoryStoreTest, InvalidIdsAreRejected) {
  EXPECT_EQ(store_->Put(Memory("", "m", "x")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Put(Memory("u", "", "x")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Put(Memory(std::string("u\0v", 3), "m", "x")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Get("u", std::string_view("m\0", 2)).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(MemoryStoreTest, RareQueryWordRanksFirst) {
  for (int i = 0; i < 50; ++i) {
    std::string content =
        "the weekly team meeting notes about the project schedule number " + std::to_string(i);
    if (i == 37) content += " with the quarterly budget spreadsheet";
    EXPECT_TRUE(PutOrDie(Memory("alice", MemId(i), content)));
  }
  auto results = SearchOrDie("alice", "meeting budget", 5);
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[0].memory.id, "m37");
  for (size_t i = 1; i < results.size(); ++i) {
    EXPECT_GE(results[i - 1].score, results[i].score);
    EXPECT_GT(results[0].score, results[i].score);
  }
  EXPECT_EQ(SearchOrDie("alice", "meeting", 100).size(), 50u);
}

TEST_F(MemoryStoreTest, TermFrequencyAndLengthMatter) {
  EXPECT_TRUE(PutOrDie(Memory("u", "once", "apple banana cherry date elder fig grape")));
  EXPECT_TRUE(PutOrDie(Memory("u", "twice", "apple apple banana cherry date elder fig")));
  EXPECT_TRUE(PutOrDie(Memory("u", "short", "kiwi")));
  EXPECT_TRUE(PutOrDie(Memory("u", "long", "kiwi and many other words that dilute it a lot")));
  EXPECT_EQ(Ids(SearchOrDie("u", "apple")), (std::vector<std::string>{"twice", "once"}));
  EXPECT_EQ(Ids(SearchOrDie("u", "KIWI")), (std::vector<std::string>{"short", "long"}));
}

TEST_F(MemoryStoreTest, EmptyQueriesAndLimits) {
  EXPECT_TRUE(PutOrDie(Memory("u", "m1", "hello world")));
  EXPECT_TRUE(SearchOrDie("u", "").empty());
  EXPECT_TRUE(SearchOrDie("u", "  ?!  ").empty());
  EXPECT_TRUE(SearchOrDie("u", "hello", 0).empty());
  EXPECT_TRUE(SearchOrDie("u", "absent").empty());
  EXPECT_TRUE(SearchOrDie("nobody", "hello").empty());
  // An empty memory is stored and counted but matches nothing.
  EXPECT_TRUE(PutOrDie(Memory("u", "empty", "")));
  EXPECT_EQ(Count("u"), 2);
  EXPECT_EQ(Ids(SearchOrDie("u", "hello hello world")), std::vector<std::string>{"m1"});
}

TEST_F(MemoryStoreTest, RestartKeepsMemoriesAndIndex) {
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(PutOrDie(
        Memory("alice", MemId(i), i == 7 ? "the lighthouse keeper" : "ordinary harbour log")));
  }
  Reopen();
  EXPECT_EQ(Count("alice"), 20);
  EXPECT_EQ(store_->Get("alice", "m7")->content, "the lighthouse keeper");
  EXPECT_EQ(Ids(SearchOrDie("alice", "lighthouse", 3)), std::vector<std::string>{"m7"});
  EXPECT_FALSE(PutOrDie(Memory("alice", "m7", "changed")));
}

}  // namespace
}  // namespace papr::storage
