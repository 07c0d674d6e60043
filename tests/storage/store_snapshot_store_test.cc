// storage::OpenSnapshotStore (what engine-admin's read commands read through), on both
// backends: a Db on it sees the store as of the snapshot and refuses writes.
#include "storage/snapshot_store.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storage/keys.h"
#include "tests/storage/store_fixture.h"

namespace papr::storage::testing {
namespace {

class SnapshotStoreTest : public StoreFixture, public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { OpenStore(GetParam()); }
};

TEST_P(SnapshotStoreTest, ADbOnItReadsAsOfTheSnapshotAndRefusesWrites) {
  Store* live = store_.get();  // owned by the snapshot store below, which outlives its uses
  Batch before;
  before.Put(Table::kExecutions, ExecutionKey("wf"), "v1");
  before.Put(Table::kVisibility, "vis-1", "x");
  before.AddCounters(Table::kUsage, UsageKey("u"), 1, 1);
  ASSERT_OK(live->Write(before));
  auto snapshot = OpenSnapshotStore(std::move(store_));
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  Batch after;  // committed after the snapshot: a live server writing on
  after.Put(Table::kExecutions, ExecutionKey("wf"), "v2");
  after.Put(Table::kVisibility, "vis-2", "y");
  after.AddCounters(Table::kUsage, UsageKey("u"), 5, 5);
  ASSERT_OK(live->Write(after));
  auto db = Db::OpenOnStore(std::move(snapshot).value());
  ASSERT_TRUE(db.ok()) << db.status().ToString();

  auto value = (*db)->Get(Table::kExecutions, ExecutionKey("wf"));
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(*value, "v1");
  std::vector<std::string> keys;
  ASSERT_OK((*db)->ScanPrefix(Table::kVisibility, "", [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  }));
  EXPECT_EQ(keys, std::vector<std::string>{"vis-1"});
  auto usage = (*db)->GetCounters(Table::kUsage, UsageKey("u"));
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  EXPECT_EQ(usage->first, 1);

  WriteBatch write;
  write.Put(Table::kExecutions, ExecutionKey("wf"), "from-the-snapshot");
  Status refused = (*db)->Write(write);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition) << refused.ToString();
  auto now = live->Get(Table::kExecutions, ExecutionKey("wf"));
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(*now, "v2");
}

INSTANTIATE_TEST_SUITE_P(Backends, SnapshotStoreTest,
                         ::testing::Values(Backend::kRocksDb, Backend::kPostgres),
                         BackendTestName);

}  // namespace
}  // namespace papr::storage::testing
