// Two engines on one store (on Postgres two Db instances on one database, i.e. two nodes; on
// RocksDB two engines on one Db, each with its own in-process `starting` set) start the same
// workflow id at once: the execution row is created by an Insert, so exactly one start wins
// and the other answers as a duplicate start does.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "engine/engine.h"
#include "engine/workflow.h"
#include "engine/workflow_context.h"
#include "tests/storage/db_fixture.h"

namespace papr::storage::testing {
namespace {

using engine::Engine;
using engine::WorkflowContext;
using engine::WorkflowOutcome;
using engine::WorkflowTask;

//! Holds each arriving thread until `n` have arrived (or 10 s passed).
class Barrier {
 public:
  explicit Barrier(int n) : n_(n) {}
  void Arrive() {
    std::unique_lock lock(mu_);
    if (++arrived_ >= n_) cv_.notify_all();
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return arrived_ >= n_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int arrived_ = 0;
  const int n_;
};

using EngineCreateTest = DbFixture;

// Both starts run their first workflow task (held at the barrier) after both found the id
// free, so only the commit can tell them apart. Engines are not Start()ed: a start is only
// recorded, which is all this needs.
TEST_P(EngineCreateTest, TwoEnginesStartingOneIdAtOnceExactlyOneWins) {
  Barrier both_found_it_free(2);
  auto workflow = [&](WorkflowContext&, std::string input) -> WorkflowTask {
    both_found_it_free.Arrive();
    co_return WorkflowOutcome::Completed(input);
  };
  Engine a(db(), engine::EngineOptions{});
  Engine b(second(), engine::EngineOptions{});
  a.RegisterWorkflow("held", workflow);
  b.RegisterWorkflow("held", workflow);
  auto start = [](Engine& e, const std::string& input) {
    engine::StartOptions o;
    o.workflow_id = "same-id";
    o.workflow_type = "held";
    o.input = input;
    return e.StartWorkflow(std::move(o));
  };
  Status from_a, from_b;
  std::thread ta([&] { from_a = start(a, "from-a"); });
  std::thread tb([&] { from_b = start(b, "from-b"); });
  ta.join();
  tb.join();
  ASSERT_NE(from_a.ok(), from_b.ok()) << from_a.ToString() << " / " << from_b.ToString();
  const Status& lost = from_a.ok() ? from_b : from_a;
  EXPECT_EQ(lost.code(), StatusCode::kAlreadyExists) << lost.ToString();
  EXPECT_EQ(lost.message(), "workflow same-id already exists");
  // The stored execution is entirely the winner's.
  const std::string winner = from_a.ok() ? "from-a" : "from-b";
  auto record = b.Describe("same-id");
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ(record->result, winner);
  auto history = a.ReadHistory("same-id", 0, 10);
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  ASSERT_FALSE(history->empty());
  EXPECT_EQ(history->front().payload, winner);
  // A later start of the id is the ordinary duplicate answer on both.
  EXPECT_EQ(start(a, "again").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(start(b, "again").code(), StatusCode::kAlreadyExists);
}

INSTANTIATE_TEST_SUITE_P(Backends, EngineCreateTest,
                         ::testing::Values(Backend::kRocksDb, Backend::kPostgres),
                         BackendTestName);

}  // namespace
}  // namespace papr::storage::testing
