// The storage.backend and storage.postgres.* keys: loading, PAPR_DATABASE_URL, validation and
// the refusal of a backend the server does not use yet.
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "config/config.h"

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
