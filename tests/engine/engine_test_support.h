#pragma once
// Small helpers shared by the engine test files that keep their own fixtures.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "engine/engine.h"
#include "storage/db.h"

namespace papr::engine {

//! Time that moves only when a test says so.
class ManualClock final : public Clock {
 public:
  int64_t NowMillis() const override { return now_.load(); }
  void Advance(int64_t ms) { now_ += ms; }

 private:
  std::atomic<int64_t> now_{1'000'000};
};

//! A database in a fresh temporary directory named after the running test; removed after.
class TempDb {
 public:
  TempDb() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("papr_engine_" + std::string(info ? info->name() : "x") + "_" +
            std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    storage::DbOptions o;
    o.path = (dir_ / "db").string();
    auto db = storage::Db::Open(o);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    if (db.ok()) db_ = std::move(db).value();
  }
  ~TempDb() {
    db_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  storage::Db* db() { return db_.get(); }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<storage::Db> db_;
};

// A one-shot gate: workflow or activity code waits in Pass() until the test opens it; the
// test can wait until someone is waiting.
class Gate {
 public:
  void Pass() {
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
  }
  void WaitForWaiter() {
    std::unique_lock lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, std::chrono::seconds(10), [&] { return waiting_ > 0; }));
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int waiting_ = 0;
  bool open_ = false;
};

// Polls Describe until execution `id` is closed and returns its record; a test failure (and
// the last record seen) if it is still open after `timeout`.
inline ExecutionRecord WaitClosed(const Engine& engine, const std::string& id,
                                  std::chrono::seconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  ExecutionRecord last;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = engine.Describe(id);
    if (r.ok()) {
      last = *r;
      if (last.status != ExecutionStatus::kRunning) return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ADD_FAILURE() << id << " did not close; status " << ExecutionStatusName(last.status);
  return last;
}

}  // namespace papr::engine
