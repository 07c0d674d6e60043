// The database itself failing under papr-server (cloud edition) on PostgreSQL: stopped with
// `pg_ctl stop -m immediate` in the middle of a 10,000-memory batch, and a connection killed
// inside COMMIT (before and after its commit record). Each test runs its own PostgreSQL (it
// stops or breaks it); they run in the PostgreSQL stage (tools/test_postgres.sh).

#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/integration/api_client.h"
#include "tests/integration/batch_polling.h"
#include "tests/integration/server_process.h"
#include "tests/storage/pg_harness.h"

namespace papr::integration {
namespace {

using namespace std::chrono_literals;
using storage::testing::PgServer;
using storage::testing::PgSession;

std::string Token(int i) { return "pgf" + std::to_string(i) + "q"; }

std::string Content(int i) { return "database fault note " + Token(i) + " about the harbour"; }

class PostgresFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!InPostgresStage()) GTEST_SKIP() << "runs in the PostgreSQL stage (tools/test_postgres.sh)";
    if (!PgServer::BinariesPresent()) GTEST_SKIP() << "no PostgreSQL binaries";
    ASSERT_TRUE(pg_.Start().ok());
    ServerOptions o;
    o.config_file = ConfigPath("cloud.yaml");
    o.postgres_url = pg_.Url("postgres");
    server_ = std::make_unique<ServerProcess>(o);
    ASSERT_TRUE(server_->Start());
    auto admin = PgSession::Connect(pg_.Url(server_->postgres_database()));
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_ = std::move(admin).value();
  }

  ApiClient Api() const { return ApiClient(server_->port(), kTestApiKey); }

  std::string Submit(int n) {
    return SubmitBatch(Api(), BatchBody(n, Content), {{"idempotency-key", "pg-faults"}});
  }

  int64_t StoredMemories() {
    auto count = admin_->Query("SELECT count(*) FROM memories");
    EXPECT_TRUE(count.ok()) << count.status().ToString();
    return count.ok() ? std::stoll(*count) : -1;
  }

  // The batch ends completed with all `n` memories, each stored once and found once.
  void ExpectCompletedExactlyOnce(const std::string& batch_id, int n) {
    Reply end = WaitForEnd(Api(), batch_id, 300s);
    ASSERT_EQ(end.status, 200) << end.Describe();
    EXPECT_EQ(Str(end.Json()["status"]), "completed") << end.Describe();
    EXPECT_EQ(Int(end.Json()["total_successful"]), n) << end.Describe();
    EXPECT_EQ(StoredMemories(), n);
    for (int i = 0; i < n; i += n / 20) {
      Reply r = Api().Post("/v1/memory/search?max_memories=10",
                           "{\"query\":" + JsonQuote(Token(i)) + "}");
      ASSERT_EQ(r.status, 200) << r.Describe();
      size_t hits = 0;
      for (auto hit : r.Json()["data"]["memories"].get_array()) hits += Str(hit["content"]) == Content(i);
      EXPECT_EQ(hits, 1u) << Token(i) << ": " << r.body.substr(0, 500);
    }
  }

  PgServer pg_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<PgSession> admin_;
};

// While the database is down nothing is acknowledged (503, never 500 or a 2xx it could not
// keep); the server reconnects by itself and the open batch completes, every memory once.
TEST_F(PostgresFaultsTest, StoppedMidBatchRefusesWritesWith503ThenCompletesEveryMemoryOnce) {
  constexpr int kMemories = 10000;
  std::string batch_id = Submit(kMemories);
  ASSERT_FALSE(batch_id.empty());
  Reply midway = PollStatus(Api(), batch_id, [](const Reply& r) {
    return Int(r.Json()["total_processed"]) >= 1000;
  }, 120s);
  ASSERT_EQ(midway.status, 200);
  ASSERT_LT(Int(midway.Json()["total_processed"]), kMemories) << "the batch ended before the stop";
  admin_.reset();
  ASSERT_TRUE(pg_.Stop(/*immediate=*/true).ok());

  Reply add = Api().Post("/v1/memory", "{\"content\":\"written while the database is down\"}");
  EXPECT_EQ(add.status, 503) << add.Describe();
  Reply submit = Api().Post("/v1/memory/batch", BatchBody(3, Content));
  EXPECT_EQ(submit.status, 503) << submit.Describe();
  Reply status = Api().Get("/v1/memory/batch/status/" + batch_id);
  EXPECT_TRUE(status.status == 200 || status.status == 503) << status.Describe();
  EXPECT_EQ(Api().Get("/healthz").status, 200);  // alive: do not restart it
  Reply ready = Api().Get("/readyz");             // but send no traffic to it
  EXPECT_EQ(ready.status, 503) << ready.Describe();
  EXPECT_TRUE(ContainsIgnoreCase(ready.body, "database")) << ready.Describe();
  std::this_thread::sleep_for(2s);  // the engine's commits fail and its rebuilds retry
  ASSERT_TRUE(server_->running());

  ASSERT_TRUE(pg_.Start().ok());
  auto admin = PgSession::Connect(pg_.Url(server_->postgres_database()));
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  admin_ = std::move(admin).value();
  ExpectCompletedExactlyOnce(batch_id, kMemories);
  EXPECT_EQ(Api().Get("/readyz").status, 200);
  Reply after = Api().Post("/v1/memory", "{\"content\":\"written after the database is back\"}");
  EXPECT_EQ(after.status / 100, 2) << after.Describe();
}

// Killed inside COMMIT before its commit record: not applied, reported unknown; the engine
// re-reads, runs the chunk again, and nothing is lost or stored twice.
TEST_F(PostgresFaultsTest, ConnectionKilledInCommitLosesAndDuplicatesNothing) {
  constexpr int kMemories = 300;
  ASSERT_TRUE(
      storage::testing::CloseCommitGate(*admin_, storage::testing::GatedCommits::kOneAtATime).ok());
  // Submitted beside the kill, not before it: the first commit may wait at the gate before the
  // submit has its answer, and whatever the submit's last writes queue behind (a transaction
  // slot, a row that commit holds) is the test's doing, not the server's.
  auto submitted = std::async(std::launch::async, [this] { return Submit(kMemories); });
  std::string pid = storage::testing::WaitForBackendWaitingOn(*admin_, "'advisory'");
  const std::string sessions = storage::testing::DescribeSessions(*admin_);
  EXPECT_NE(pid, "") << "no commit waited at the gate; sessions:\n" << sessions;
  if (!pid.empty()) ASSERT_TRUE(admin_->Query("SELECT pg_terminate_backend(" + pid + ")").ok());
  // Opened before the drop: DROP TRIGGER waits for commits waiting at the gate.
  ASSERT_TRUE(storage::testing::OpenCommitGate(*admin_).ok());
  ASSERT_TRUE(admin_->Query("DROP TRIGGER commit_gate ON memories").ok());
  std::string batch_id = submitted.get();
  ASSERT_FALSE(batch_id.empty()) << "sessions at the kill:\n" << sessions;
  ASSERT_NE(pid, "");
  ExpectCompletedExactlyOnce(batch_id, kMemories);
}

// Killed after its commit record, while COMMIT waits for a synchronous standby: applied, its
// reply lost. The engine reads the commit back instead of guessing.
TEST_F(PostgresFaultsTest, ConnectionKilledAfterCommitRecordLosesAndDuplicatesNothing) {
  constexpr int kMemories = 300;
  std::string batch_id = Submit(kMemories);
  ASSERT_FALSE(batch_id.empty());
  ASSERT_TRUE(storage::testing::SetSynchronousStandby(pg_, *admin_, "papr_no_such_standby").ok());
  std::string pid = storage::testing::WaitForBackendWaitingOn(*admin_, "'SyncRep'");
  if (!pid.empty()) ASSERT_TRUE(admin_->Query("SELECT pg_terminate_backend(" + pid + ")").ok());
  ASSERT_TRUE(storage::testing::SetSynchronousStandby(pg_, *admin_, "").ok());
  ASSERT_NE(pid, "") << "no commit waited for the standby";
  ExpectCompletedExactlyOnce(batch_id, kMemories);
}

}  // namespace
}  // namespace papr::integration
