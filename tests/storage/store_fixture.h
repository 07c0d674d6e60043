#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "storage/postgres/postgres_store.h"
#include "storage/rocksdb/rocksdb_store.h"
#include "tests/storage/pg_test_environment.h"
#include "tests/storage/temp_dir.h"

#define ASSERT_OK(expr)                        \
  do {                                         \
    ::papr::Status assert_ok_ = (expr);        \
    ASSERT_TRUE(assert_ok_.ok()) << assert_ok_.ToString(); \
  } while (0)
#define EXPECT_OK(expr)                        \
  do {                                         \
    ::papr::Status expect_ok_ = (expr);        \
    EXPECT_TRUE(expect_ok_.ok()) << expect_ok_.ToString(); \
  } while (0)

namespace papr::storage::testing {

enum class Backend { kRocksDb, kPostgres };

inline std::string BackendTestName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kRocksDb ? "RocksDb" : "Postgres";
}

//! A fresh store per test: a RocksDB database in a temp dir, or a new database on the
//! binary's shared PostgreSQL server (skipped, saying why, when PostgreSQL is not installed).
class StoreFixture {
 protected:
  void OpenStore(Backend backend) {
    backend_ = backend;
    if (backend == Backend::kRocksDb) {
      DbOptions options;
      options.path = dir_.Sub("db");
      auto store = RocksDbStore::Open(options);
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      store_ = std::move(store).value();
      return;
    }
    PgServer* server = SharedPgServer();
    if (server == nullptr) GTEST_SKIP() << PgMissingMessage();
    auto db = server->CreateDatabase();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    pg_options_.url = server->Url(*db);
    pg_options_.pool_size = 8;
    auto store = PostgresStore::Open(pg_options_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  // A second store on the same Postgres database: another node.
  std::unique_ptr<PostgresStore> OpenPgNode() {
    auto store = PostgresStore::Open(pg_options_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  TempDir dir_;
  Backend backend_ = Backend::kRocksDb;
  PgStoreOptions pg_options_;
  std::unique_ptr<Store> store_;
};

}  // namespace papr::storage::testing
