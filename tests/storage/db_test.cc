#include "storage/db.h"

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "tests/storage/temp_dir.h"

namespace papr::storage {
namespace {

using testing::TempDir;

std::unique_ptr<Db> OpenOrDie(const DbOptions& options) {
  auto db = Db::Open(options);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db).value() : nullptr;
}

DbOptions Primary(const TempDir& dir) {
  DbOptions options;
  options.path = dir.Sub("db");
  return options;
}

std::string GetOrDie(const Db& db, Table t, std::string_view key) {
  auto v = db.Get(t, key);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() && v->has_value() ? **v : "<absent>";
}

TEST(DbTest, TableNamesAreDistinctAndMetaIsDefault) {
  EXPECT_STREQ(TableName(Table::kMeta), "default");
  EXPECT_STREQ(TableName(Table::kMemories), "memories");
  std::set<std::string> names;
  for (int i = 0; i < static_cast<int>(Table::kCount); ++i) {
    names.insert(TableName(static_cast<Table>(i)));
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(Table::kCount));
}

TEST(DbTest, WriteGetDeleteAndTablesAreSeparate) {
  TempDir dir;
  auto db = OpenOrDie(Primary(dir));
  ASSERT_NE(db, nullptr);
  WriteBatch batch;
  batch.Put(Table::kMemories, "k1", "v1");
  batch.Put(Table::kPostings, "k1", "other-table");
  batch.Put(Table::kMemories, "k2", "v2");
  EXPECT_EQ(batch.Count(), 3u);
  EXPECT_GT(batch.ByteSize(), 0u);
  ASSERT_TRUE(db->Write(batch).ok());
  EXPECT_EQ(GetOrDie(*db, Table::kMemories, "k1"), "v1");
  EXPECT_EQ(GetOrDie(*db, Table::kPostings, "k1"), "other-table");
  EXPECT_EQ(GetOrDie(*db, Table::kHistory, "k1"), "<absent>");

  WriteBatch del;
  del.Delete(Table::kMemories, "k1");
  ASSERT_TRUE(db->Write(del).ok());
  EXPECT_EQ(GetOrDie(*db, Table::kMemories, "k1"), "<absent>");
  EXPECT_EQ(GetOrDie(*db, Table::kMemories, "k2"), "v2");

  WriteBatch empty;
  EXPECT_TRUE(db->Write(empty).ok());
  EXPECT_GT(db->ApproximateDiskBytes(), 0u);
}

TEST(DbTest, CursorAndScanPrefixVisitKeysInOrder) {
  TempDir dir;
  auto db = OpenOrDie(Primary(dir));
  ASSERT_NE(db, nullptr);
  WriteBatch batch;
  for (std::string k : {"b/2", "a/1", "b/1", "b/3", "c/1", "b\xff"}) {
    batch.Put(Table::kHistory, k, "v" + k);
  }
  ASSERT_TRUE(db->Write(batch).ok());

  std::vector<std::string> seen;
  ASSERT_TRUE(db->ScanPrefix(Table::kHistory, "b/", [&](std::string_view k, std::string_view v) {
                  std::string expected = "v";
                  expected += k;
                  EXPECT_EQ(v, expected);
                  seen.emplace_back(k);
                  return true;
                }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"b/1", "b/2", "b/3"}));

  seen.clear();
  ASSERT_TRUE(db->ScanPrefix(Table::kHistory, "b", [&](std::string_view k, std::string_view) {
                  seen.emplace_back(k);
                  return seen.size() < 2;  // stop early
                }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"b/1", "b/2"}));

  auto cursor = db->NewCursor(Table::kHistory);
  seen.clear();
  for (cursor->Seek("b/2"); cursor->Valid(); cursor->Next()) seen.emplace_back(cursor->key());
  EXPECT_TRUE(cursor->status().ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"b/2", "b/3", "b\xff", "c/1"}));
}

TEST(DbTest, CountersMergeAcrossBatchesAndReopen) {
  TempDir dir;
  {
    auto db = OpenOrDie(Primary(dir));
    ASSERT_NE(db, nullptr);
    auto absent = db->GetCounters(Table::kUserStats, "u");
    ASSERT_TRUE(absent.ok());
    EXPECT_EQ(*absent, std::make_pair(int64_t{0}, int64_t{0}));
    for (int i = 0; i < 10; ++i) {
      WriteBatch batch;
      batch.AddCounters(Table::kUserStats, "u", 1, 100);
      batch.AddCounters(Table::kUsage, "u", 2, -3);
      batch.AddCounters(Table::kMeta, "counter", 5, 5);
      ASSERT_TRUE(db->Write(batch).ok());
    }
    WriteBatch minus;
    minus.AddCounters(Table::kUserStats, "u", -1, -250);
    ASSERT_TRUE(db->Write(minus).ok());
    auto stats = db->GetCounters(Table::kUserStats, "u");
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(*stats, std::make_pair(int64_t{9}, int64_t{750}));
  }
  auto db = OpenOrDie(Primary(dir));
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(*db->GetCounters(Table::kUserStats, "u"), std::make_pair(int64_t{9}, int64_t{750}));
  EXPECT_EQ(*db->GetCounters(Table::kUsage, "u"), std::make_pair(int64_t{20}, int64_t{-30}));
  EXPECT_EQ(*db->GetCounters(Table::kMeta, "counter"), std::make_pair(int64_t{50}, int64_t{50}));
}

TEST(DbTest, MalformedCounterIsCorruption) {
  TempDir dir;
  auto db = OpenOrDie(Primary(dir));
  ASSERT_NE(db, nullptr);
  WriteBatch batch;
  batch.Put(Table::kUsage, "bad", "short");
  ASSERT_TRUE(db->Write(batch).ok());
  EXPECT_EQ(db->GetCounters(Table::kUsage, "bad").status().code(), StatusCode::kCorruption);
}

TEST(DbTest, ReopenKeepsUnsyncedAndSyncedWrites) {
  TempDir dir;
  for (bool sync : {true, false}) {
    DbOptions options = Primary(dir);
    options.sync_writes = sync;
    auto db = OpenOrDie(options);
    ASSERT_NE(db, nullptr);
    WriteBatch batch;
    batch.Put(Table::kExecutions, sync ? "synced" : "unsynced", "x");
    ASSERT_TRUE(db->Write(batch).ok());
  }
  auto db = OpenOrDie(Primary(dir));
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(GetOrDie(*db, Table::kExecutions, "synced"), "x");
  EXPECT_EQ(GetOrDie(*db, Table::kExecutions, "unsynced"), "x");
}

TEST(DbTest, SecondOpenWhileOpenFailsWithInUse) {
  TempDir dir;
  auto first = OpenOrDie(Primary(dir));
  ASSERT_NE(first, nullptr);
  auto second = Db::Open(Primary(dir));
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("is in use by another process"), std::string::npos)
      << second.status().ToString();
  EXPECT_NE(second.status().message().find(Primary(dir).path), std::string::npos);
}

TEST(DbTest, OpenWhileAnotherProcessHoldsItFailsWithInUse) {
  TempDir dir;
  int ready[2];
  int done[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(done), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto db = Db::Open(Primary(dir));
    char c = db.ok() ? 'y' : 'n';
    (void)!write(ready[1], &c, 1);
    (void)!read(done[0], &c, 1);  // hold the lock until the parent is done
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  auto second = Db::Open(Primary(dir));
  (void)!write(done[1], &c, 1);
  int wstatus = 0;
  waitpid(child, &wstatus, 0);
  for (int fd : {ready[0], ready[1], done[0], done[1]}) close(fd);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("is in use by another process"), std::string::npos)
      << second.status().ToString();
}

TEST(DbTest, ReadOnlyOpenSeesDataAndRefusesWrites) {
  TempDir dir;
  {
    auto db = OpenOrDie(Primary(dir));
    ASSERT_NE(db, nullptr);
    WriteBatch batch;
    batch.Put(Table::kMemories, "k", "v");
    batch.AddCounters(Table::kUserStats, "u", 1, 2);
    ASSERT_TRUE(db->Write(batch).ok());
  }
  DbOptions options = Primary(dir);
  options.read_only = true;
  auto db = OpenOrDie(options);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(GetOrDie(*db, Table::kMemories, "k"), "v");
  EXPECT_EQ(*db->GetCounters(Table::kUserStats, "u"), std::make_pair(int64_t{1}, int64_t{2}));
  WriteBatch batch;
  batch.Put(Table::kMemories, "k2", "v");
  EXPECT_EQ(db->Write(batch).code(), StatusCode::kFailedPrecondition);
}

TEST(DbTest, ReadOnlyOpenOfMissingDirectoryFails) {
  TempDir dir;
  DbOptions options = Primary(dir);
  options.read_only = true;
  auto db = Db::Open(options);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.status().message().find(options.path), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(options.path));
}

TEST(DbTest, SecondaryFollowsPrimary) {
  TempDir dir;
  auto primary = OpenOrDie(Primary(dir));
  ASSERT_NE(primary, nullptr);
  WriteBatch first;
  first.Put(Table::kExecutions, "wf-1", "running");
  ASSERT_TRUE(primary->Write(first).ok());

  DbOptions options = Primary(dir);
  options.secondary_path = dir.Sub("secondary");
  auto secondary = OpenOrDie(options);
  ASSERT_NE(secondary, nullptr);
  EXPECT_EQ(GetOrDie(*secondary, Table::kExecutions, "wf-1"), "running");

  WriteBatch second;
  second.Put(Table::kExecutions, "wf-2", "running");
  ASSERT_TRUE(primary->Write(second).ok());
  ASSERT_TRUE(secondary->TryCatchUpWithPrimary().ok());
  EXPECT_EQ(GetOrDie(*secondary, Table::kExecutions, "wf-2"), "running");
  EXPECT_FALSE(primary->TryCatchUpWithPrimary().ok());
}

TEST(DbTest, CorruptedDirectoryFailsNamingPath) {
  TempDir dir;
  DbOptions options = Primary(dir);
  { ASSERT_NE(OpenOrDie(options), nullptr); }
  std::ofstream(std::filesystem::path(options.path) / "CURRENT", std::ios::trunc)
      << "garbage-without-newline";
  auto db = Db::Open(options);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.status().message().find(options.path), std::string::npos) << db.status().ToString();
}

TEST(DbTest, PathThatIsAFileFails) {
  TempDir dir;
  std::ofstream(dir.Sub("file")) << "x";
  DbOptions options;
  options.path = dir.Sub("file");
  auto db = Db::Open(options);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.status().message().find(options.path), std::string::npos) << db.status().ToString();
}

TEST(DbTest, FailedWriteLatchesEveryLaterWrite) {
  TempDir dir;
  auto db = OpenOrDie(Primary(dir));
  ASSERT_NE(db, nullptr);
  WriteBatch ok_batch;
  ok_batch.Put(Table::kMemories, "before", "v");
  ASSERT_TRUE(db->Write(ok_batch).ok());
  EXPECT_FALSE(db->writes_refused());

  db->InjectWriteErrorForTest();
  WriteBatch failing;
  failing.Put(Table::kMemories, "lost", "v");
  EXPECT_EQ(db->Write(failing).code(), StatusCode::kIoError);
  EXPECT_TRUE(db->writes_refused());  // what /readyz reports
  WriteBatch later;
  later.Put(Table::kMemories, "later", "v");
  Status s = db->Write(later);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("injected"), std::string::npos) << s.ToString();
  EXPECT_EQ(GetOrDie(*db, Table::kMemories, "before"), "v");
  EXPECT_EQ(GetOrDie(*db, Table::kMemories, "later"), "<absent>");
}

TEST(DbTest, EmptyPathIsInvalid) {
  auto db = Db::Open(DbOptions{});
  EXPECT_EQ(db.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace papr::storage
