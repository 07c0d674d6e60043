// The storage.backend and storage.postgres.* keys: loading, PAPR_DATABASE_URL, validation and
// the refusal of a backend the server does not use yet.
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "config/config.h"
#include "storage/open/open_database.h"
#include "tests/storage/temp_dir.h"

namespace papr::config {
namespace {

TEST(StorageConfigTest, DefaultsToRocksDb) {
  Result<Config> c = LoadConfigFromString("");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->storage.backend, "rocksdb");
  EXPECT_EQ(c->storage.postgres.pool_size, 8);
  EXPECT_EQ(c->storage.postgres.statement_timeout_ms, 10000);
  EXPECT_TRUE(Validate(*c, true).ok());
}

TEST(StorageConfigTest, PostgresKeysAreRead) {
  Result<Config> c = LoadConfigFromString(
      "storage:\n  backend: postgres\n  postgres:\n    url: postgresql://u@h:5/db\n"
      "    pool_size: 3\n    statement_timeout_ms: 250\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->storage.backend, "postgres");
  EXPECT_EQ(c->storage.postgres.url, "postgresql://u@h:5/db");
  EXPECT_EQ(c->storage.postgres.pool_size, 3);
  EXPECT_EQ(c->storage.postgres.statement_timeout_ms, 250);
  EXPECT_TRUE(Validate(*c, true).ok()) << Validate(*c, true).ToString();
}

// Cluster mode needs the shared database and durable batches; its timings must leave a
// renewal or two inside a lease, and its names reach logs and the nodes table as given.
TEST(StorageConfigTest, ClusterModeNeedsPostgresAndTheEngine) {
  const std::string postgres =
      "features:\n  has_temporal: true\nstorage:\n  backend: postgres\n  postgres:\n"
      "    url: postgresql://u@h:5/db\n";
  Result<Config> ok = LoadConfigFromString(postgres + "cluster:\n  enabled: true\n  shards: 16\n");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(Validate(*ok, true).ok()) << Validate(*ok, true).ToString();
  EXPECT_EQ(ok->cluster.shards, 16);
  EXPECT_EQ(ok->cluster.lease_ttl_ms, 6000);
  const std::pair<std::string, std::string> refused[] = {
      {"cluster:\n  enabled: true\n", "needs storage.backend 'postgres'"},
      {"storage:\n  backend: postgres\n  postgres:\n    url: postgresql://u@h:5/db\n"
       "cluster:\n  enabled: true\n",
       "needs features.has_temporal"},
      {postgres + "cluster:\n  enabled: true\n  lease_ttl_ms: 3000\n  heartbeat_interval_ms: 2000\n",
       "at least twice"},
      {postgres + "cluster:\n  enabled: true\n  shards: 5000\n", "cluster.shards must be <= 4096"},
      {postgres + "cluster:\n  enabled: true\n  node_id: \"a b\"\n", "cluster.node_id must be"},
  };
  for (const auto& [yaml, message] : refused) {
    Result<Config> c = LoadConfigFromString(yaml);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    Status s = Validate(*c, true);
    EXPECT_NE(s.message().find(message), std::string::npos) << yaml << " -> " << s.ToString();
  }
}

// The RocksDB memory keys reach the opened database: RocksDB reports the sizes given.
TEST(StorageConfigTest, RocksDbMemoryKeysAreAppliedOnOpen) {
  storage::testing::TempDir dir;
  Result<Config> c = LoadConfigFromString(
      "storage:\n  data_dir: " + dir.path().string() +
      "\n  rocksdb:\n    block_cache_bytes: 3145728\n    write_buffer_bytes: 5242880\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(Validate(*c, true).ok()) << Validate(*c, true).ToString();
  auto db = storage::OpenDatabase(c->storage);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  storage::DbMemoryLimits limits = (*db)->MemoryLimits();
  EXPECT_EQ(limits.block_cache_bytes, 3145728u);
  EXPECT_EQ(limits.write_buffer_bytes, 5242880u);
}

TEST(StorageConfigTest, RocksDbMemoryDefaults) {
  Config c;
  EXPECT_EQ(c.storage.rocksdb.block_cache_bytes, 64 << 20);
  EXPECT_EQ(c.storage.rocksdb.write_buffer_bytes, 128 << 20);
  c.storage.rocksdb.block_cache_bytes = 1000;  // under the 1 MiB minimum
  Status small = Validate(c, true);
  EXPECT_NE(small.message().find("storage.rocksdb.block_cache_bytes"), std::string::npos)
      << small.message();
}

TEST(StorageConfigTest, DatabaseUrlFromEnvironment) {
  std::map<std::string, std::string> env = {{"PAPR_DATABASE_URL", "postgresql://env@h/db"}};
  Config c;
  ApplyEnvOverrides(c, [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
  EXPECT_EQ(c.storage.postgres.url, "postgresql://env@h/db");
}

TEST(StorageConfigTest, ValidateRejectsUnknownBackendAndPostgresWithoutUrl) {
  Config c;
  c.storage.backend = "mysql";
  Status unknown = Validate(c, true);
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.message().find("storage.backend"), std::string::npos) << unknown.message();

  c.storage.backend = "postgres";
  Status no_url = Validate(c, true);
  EXPECT_NE(no_url.message().find("storage.postgres.url"), std::string::npos) << no_url.message();

  c.storage.postgres.url = "postgresql://h/db";
  c.storage.postgres.pool_size = 0;
  Status no_pool = Validate(c, true);
  EXPECT_NE(no_pool.message().find("storage.postgres.pool_size"), std::string::npos)
      << no_pool.message();
}

TEST(StorageConfigTest, StorageBackendEnvOverridesTheConfigAndIsValidated) {
  Config c;
  std::map<std::string, std::string> env = {{"PAPR_STORAGE_BACKEND", "postgres"},
                                            {"PAPR_DATABASE_URL", "postgresql://h/db"}};
  auto lookup = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  ApplyEnvOverrides(c, lookup);
  EXPECT_EQ(c.storage.backend, "postgres");
  EXPECT_TRUE(Validate(c, true).ok());
  env["PAPR_STORAGE_BACKEND"] = "sqlite";
  ApplyEnvOverrides(c, lookup);
  EXPECT_NE(Validate(c, true).message().find("storage.backend"), std::string::npos);
}

}  // namespace
}  // namespace papr::config
