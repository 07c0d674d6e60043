// The Store-backed Db's cursors (storage/db_on_store.cc): how much of a table they read.
#include <atomic>

#include "storage/batch.h"
#include "storage/db.h"
#include "storage/keys.h"
#include "tests/storage/store_fixture.h"

namespace papr::storage::testing {
namespace {

//! A RocksDB store that counts the rows its Scans return (what a PostgreSQL round trip would
//! ship).
class RowCountingStore final : public Store {
 public:
  explicit RowCountingStore(std::unique_ptr<Store> inner) : inner_(std::move(inner)) {}
  Status Write(const Batch& batch) override { return inner_->Write(batch); }
  Result<std::optional<std::string>> Get(Table table, std::string_view key) const override {
    return inner_->Get(table, key);
  }
  Result<ScanPage> Scan(Table table, std::string_view start, std::string_view end,
                        size_t limit) const override {
    auto page = inner_->Scan(table, start, end, limit);
    if (page.ok()) rows_scanned_ += static_cast<int64_t>(page->rows.size());
    return page;
  }
  Result<std::pair<int64_t, int64_t>> GetCounters(Table table,
                                                  std::string_view key) const override {
    return inner_->GetCounters(table, key);
  }
  Result<std::unique_ptr<StoreSnapshot>> NewSnapshot() const override {
    return inner_->NewSnapshot();
  }
  Result<ShardLease> AcquireShard(uint32_t shard, std::string_view owner,
                                  std::chrono::milliseconds ttl) override {
    return inner_->AcquireShard(shard, owner, ttl);
  }
  Status RenewShard(const ShardLease& lease, std::chrono::milliseconds ttl) override {
    return inner_->RenewShard(lease, ttl);
  }
  Status ReleaseShard(const ShardLease& lease) override { return inner_->ReleaseShard(lease); }
  const char* BackendName() const override { return "counting"; }

  int64_t rows_scanned() const { return rows_scanned_; }

 private:
  std::unique_ptr<Store> inner_;
  mutable std::atomic<int64_t> rows_scanned_{0};
};

class StoreCursorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DbOptions options;
    options.path = dir_.Sub("db");
    auto rocks = RocksDbStore::Open(options);
    ASSERT_TRUE(rocks.ok()) << rocks.status().ToString();
    auto counting = std::make_unique<RowCountingStore>(std::move(rocks).value());
    store_ = counting.get();
    auto db = Db::OpenOnStore(std::move(counting));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }

  // `events` history rows of workflow `id`.
  void WriteHistory(const std::string& id, int events) {
    Batch batch;
    for (int i = 1; i <= events; ++i) batch.Put(Table::kHistory, HistoryKey(id, i), "event");
    ASSERT_OK(store_->Write(batch));
  }

  TempDir dir_;
  RowCountingStore* store_ = nullptr;
  std::unique_ptr<Db> db_;
};

// The engine reads one execution's history through an unbounded cursor and stops at the end
// of its prefix: the rows of the executions after it must not be read along.
TEST_F(StoreCursorTest, UnboundedCursorStoppingAtAShortPrefixReadsLittleBeyondIt) {
  WriteHistory("a", 5);
  WriteHistory("b", 2000);
  std::string prefix = HistoryPrefix("a");
  auto cursor = db_->NewCursor(Table::kHistory);
  int seen = 0;
  for (cursor->Seek(prefix); cursor->Valid() && cursor->key().starts_with(prefix);
       cursor->Next()) {
    ++seen;
  }
  ASSERT_OK(cursor->status());
  EXPECT_EQ(seen, 5);
  EXPECT_LE(store_->rows_scanned(), 64);
}

// Pages grow, so a long walk stays a few reads and still sees every row once.
TEST_F(StoreCursorTest, UnboundedCursorWalksAWholeLongTableInGrowingPages) {
  WriteHistory("b", 2000);
  auto cursor = db_->NewCursor(Table::kHistory);
  int seen = 0;
  for (cursor->Seek(""); cursor->Valid(); cursor->Next()) ++seen;
  ASSERT_OK(cursor->status());
  EXPECT_EQ(seen, 2000);
  EXPECT_EQ(store_->rows_scanned(), 2000);
}

}  // namespace
}  // namespace papr::storage::testing
