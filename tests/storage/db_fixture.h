#pragma once

#include <memory>

#include <gtest/gtest.h>

#include "storage/db.h"
#include "tests/storage/store_fixture.h"

namespace papr::storage::testing {

//! A fresh storage::Db per test on either backend: RocksDB directly (Db::Open in a temp dir)
//! or a Db on a PostgresStore (Db::OpenOnStore). second() is another writer of the same data:
//! on Postgres a second Db on its own store (another node); on RocksDB, whose LOCK file allows
//! one Db per directory, the same Db (its other users are the second writer).
class DbFixture : public StoreFixture, public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kRocksDb) {
      DbOptions options;
      options.path = dir_.Sub("db");
      auto db = Db::Open(options);
      ASSERT_TRUE(db.ok()) << db.status().ToString();
      db_ = std::move(db).value();
      return;
    }
    OpenStore(Backend::kPostgres);  // skips without PostgreSQL
    if (IsSkipped() || HasFatalFailure()) return;
    auto db = Db::OpenOnStore(std::move(store_));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto node = Db::OpenOnStore(OpenPgNode());
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    second_db_ = std::move(node).value();
  }

  Db* db() { return db_.get(); }
  Db* second() { return second_db_ ? second_db_.get() : db_.get(); }

  std::unique_ptr<Db> db_;
  std::unique_ptr<Db> second_db_;
};

}  // namespace papr::storage::testing
