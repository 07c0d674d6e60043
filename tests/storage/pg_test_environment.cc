#include "tests/storage/pg_test_environment.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace papr::storage::testing {
namespace {

std::unique_ptr<PgServer>& Server() {
  static std::unique_ptr<PgServer> server;
  return server;
}

//! Starts the binary's PostgreSQL before the first test and stops it after the last.
class PgEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (!PgServer::BinariesPresent()) return;
    auto server = std::make_unique<PgServer>();
    Status started = server->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    Server() = std::move(server);
  }
  void TearDown() override { Server().reset(); }
};

[[maybe_unused]] ::testing::Environment* const kPgEnvironment =
    ::testing::AddGlobalTestEnvironment(new PgEnvironment);

}  // namespace

PgServer* SharedPgServer() { return Server().get(); }

const char* PgMissingMessage() {
  static const std::string message =
      "PostgreSQL 15 binaries not found in " + PgServer::BinDir() +
      " (install postgresql-15: tools/bootstrap.sh); Postgres backend not tested";
  return message.c_str();
}

}  // namespace papr::storage::testing
