// Db::ScanRange and ScanPrefix on both paths: RocksDB (an iterate_upper_bound) and a Db on a
// PostgresStore (a bounded StoreCursor paging through Store::Scan).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storage/keys.h"
#include "tests/storage/db_fixture.h"

namespace papr::storage::testing {
namespace {

class DbScanRangeTest : public DbFixture {
 protected:
  void PutActivities(const std::string& workflow, int count) {
    WriteBatch batch;
    for (int i = 1; i <= count; i++) {
      batch.Put(Table::kActivities, ActivityKey(workflow, static_cast<uint64_t>(i)),
                "v" + std::to_string(i));
    }
    ASSERT_OK(db()->Write(batch));
  }
  std::vector<std::string> Values(std::string_view start, std::string_view end) {
    std::vector<std::string> out;
    EXPECT_OK(db()->ScanRange(Table::kActivities, start, end,
                              [&](std::string_view, std::string_view value) {
                                out.emplace_back(value);
                                return true;
                              }));
    return out;
  }
};

TEST_P(DbScanRangeTest, VisitsExactlyTheKeysFromStartUpToEnd) {
  PutActivities("wf", 100);  // past one page of a store cursor
  PutActivities("wf2", 3);
  auto middle = Values(ActivityKey("wf", 40), ActivityKey("wf", 45));
  EXPECT_EQ(middle, (std::vector<std::string>{"v40", "v41", "v42", "v43", "v44"}));
  auto wide = Values(ActivityKey("wf", 1), ActivityKey("wf", 101));
  ASSERT_EQ(wide.size(), 100u);
  EXPECT_EQ(wide.front(), "v1");
  EXPECT_EQ(wide.back(), "v100");
  EXPECT_TRUE(Values(ActivityKey("wf", 7), ActivityKey("wf", 7)).empty());
  // An empty end runs to the table's end: the other workflow's rows too.
  EXPECT_EQ(Values(ActivityKey("wf", 99), "").size(), 5u);
}

TEST_P(DbScanRangeTest, StopsWhenTheVisitorSaysSoAndPrefixScansStayInTheirPrefix) {
  PutActivities("wf", 50);
  PutActivities("wf2", 3);
  int visited = 0;
  ASSERT_OK(db()->ScanRange(Table::kActivities, ActivityKey("wf", 1), "",
                            [&](std::string_view, std::string_view) { return ++visited < 3; }));
  EXPECT_EQ(visited, 3);
  std::vector<std::string> keys;
  ASSERT_OK(db()->ScanPrefix(Table::kActivities, ActivityPrefix("wf2"),
                             [&](std::string_view key, std::string_view) {
                               keys.emplace_back(key);
                               return true;
                             }));
  EXPECT_EQ(keys, (std::vector<std::string>{ActivityKey("wf2", 1), ActivityKey("wf2", 2),
                                            ActivityKey("wf2", 3)}));
}

INSTANTIATE_TEST_SUITE_P(Backends, DbScanRangeTest,
                         ::testing::Values(Backend::kRocksDb, Backend::kPostgres),
                         BackendTestName);

}  // namespace
}  // namespace papr::storage::testing
