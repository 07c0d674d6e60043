// Db::TryResumeWrites: write service returns after a no-space error, never after another one.
#include <gtest/gtest.h>

#include "storage/db.h"
#include "tests/storage/temp_dir.h"

namespace papr::storage {
namespace {

using testing::TempDir;

std::unique_ptr<Db> OpenOrDie(const std::string& path) {
  DbOptions options;
  options.path = path;
  auto db = Db::Open(options);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db).value() : nullptr;
}

Status Put(Db& db, std::string_view key) {
  WriteBatch batch;
  batch.Put(Table::kMemories, key, "v");
  return db.Write(batch);
}

bool Has(const Db& db, std::string_view key) {
  auto v = db.Get(Table::kMemories, key);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() && v->has_value();
}

TEST(DbResumeTest, NoSpaceLatchIsClearedByResumeAndEverythingAcknowledgedSurvivesReopen) {
  TempDir dir;
  auto db = OpenOrDie(dir.Sub("db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(Put(*db, "before").ok());
  db->InjectNoSpaceErrorForTest();
  EXPECT_EQ(Put(*db, "refused").code(), StatusCode::kIoError);
  EXPECT_TRUE(db->writes_refused());
  EXPECT_EQ(Put(*db, "still-refused").code(), StatusCode::kIoError);

  ASSERT_TRUE(db->TryResumeWrites().ok());
  EXPECT_FALSE(db->writes_refused());
  ASSERT_TRUE(Put(*db, "after").ok());
  db.reset();

  db = OpenOrDie(dir.Sub("db"));
  ASSERT_NE(db, nullptr);
  EXPECT_TRUE(Has(*db, "before"));
  EXPECT_TRUE(Has(*db, "after"));
  EXPECT_FALSE(Has(*db, "refused"));
  EXPECT_FALSE(Has(*db, "still-refused"));
}

TEST(DbResumeTest, OtherWriteErrorsStayLatchedUntilRestart) {
  TempDir dir;
  auto db = OpenOrDie(dir.Sub("db"));
  ASSERT_NE(db, nullptr);
  db->InjectWriteErrorForTest();
  EXPECT_EQ(Put(*db, "refused").code(), StatusCode::kIoError);
  Status resumed = db->TryResumeWrites();
  EXPECT_EQ(resumed.code(), StatusCode::kFailedPrecondition) << resumed.ToString();
  EXPECT_TRUE(db->writes_refused());
  EXPECT_EQ(Put(*db, "later").code(), StatusCode::kIoError);
}

TEST(DbResumeTest, ResumeWithoutAnErrorIsANoOp) {
  TempDir dir;
  auto db = OpenOrDie(dir.Sub("db"));
  ASSERT_NE(db, nullptr);
  EXPECT_TRUE(db->TryResumeWrites().ok());
  EXPECT_TRUE(Put(*db, "k").ok());
}

}  // namespace
}  // namespace papr::storage
