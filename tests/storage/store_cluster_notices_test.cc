// What a PostgreSQL store's listener hears: the shards of inbox rows posted and the executions
// a commit announced closed, delivered when (and only when) the write commits.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "storage/keys.h"
#include "tests/storage/store_fixture.h"

namespace papr::storage::testing {
namespace {

using std::chrono::milliseconds;

class ClusterNoticesTest : public StoreFixture, public ::testing::Test {
 protected:
  void SetUp() override { OpenStore(Backend::kPostgres); }

  // Every notice heard within `wait` after the first one.
  ClusterNotices Drain(InboxListener& listener, milliseconds wait) {
    ClusterNotices all;
    for (int round = 0; round < 5; ++round) {
      auto got = listener.Wait(round == 0 ? wait : milliseconds(100));
      EXPECT_TRUE(got.ok()) << got.status().ToString();
      if (!got.ok() || got->empty()) break;
      all.inbox_shards.insert(all.inbox_shards.end(), got->inbox_shards.begin(),
                              got->inbox_shards.end());
      all.closed.insert(all.closed.end(), got->closed.begin(), got->closed.end());
    }
    return all;
  }
};

TEST_F(ClusterNoticesTest, ACommitAnnouncesTheExecutionsItClosedAndTheInboxShardsItPosted) {
  auto listener = store_->ListenForInbox();
  ASSERT_TRUE(listener.ok()) << listener.status().ToString();
  Batch batch;
  batch.Put(Table::kInbox, InboxStartKey(7, "wf-posted"), "row");
  batch.Put(Table::kExecutions, ExecutionKey("wf-a"), "closed row");
  batch.AnnounceClosed("wf-a");
  batch.AnnounceClosed("root/chunk-3");
  ASSERT_TRUE(store_->Write(batch).ok());

  ClusterNotices heard = Drain(**listener, milliseconds(5000));
  EXPECT_EQ(heard.inbox_shards, std::vector<uint32_t>{7});
  EXPECT_EQ(heard.closed, (std::vector<std::string>{"wf-a", "root/chunk-3"}));
}

TEST_F(ClusterNoticesTest, AWriteThatFailsAnnouncesNothing) {
  Batch first;
  first.Insert(Table::kExecutions, ExecutionKey("wf-b"), "row");
  ASSERT_TRUE(store_->Write(first).ok());
  auto listener = store_->ListenForInbox();
  ASSERT_TRUE(listener.ok()) << listener.status().ToString();
  Batch again;  // its Insert finds the key taken: nothing of it applies, nothing is announced
  again.Insert(Table::kExecutions, ExecutionKey("wf-b"), "row");
  again.AnnounceClosed("wf-b");
  EXPECT_EQ(store_->Write(again).code(), StatusCode::kAlreadyExists);

  EXPECT_TRUE(Drain(**listener, milliseconds(300)).empty());
}

TEST_F(ClusterNoticesTest, ManyAnnouncementsInOneCommitAllArrive) {
  auto listener = store_->ListenForInbox();
  ASSERT_TRUE(listener.ok()) << listener.status().ToString();
  Batch batch;  // ~16 KB of ids: more than one notice's payload (8,000 bytes at most)
  std::vector<std::string> ids;
  for (int i = 0; i < 400; ++i) {
    ids.push_back("workflow-with-a-long-id-" + std::to_string(i));
    batch.AnnounceClosed(ids.back());
  }
  batch.Put(Table::kExecutions, ExecutionKey("wf-c"), "row");
  ASSERT_TRUE(store_->Write(batch).ok());

  EXPECT_EQ(Drain(**listener, milliseconds(5000)).closed, ids);
}

}  // namespace
}  // namespace papr::storage::testing
