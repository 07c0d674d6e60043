#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "common/status.h"

namespace papr::storage {

class Db;

//! Probes a Db that refuses writes for lack of space and brings write service back without a
//! restart once space is freed: Db::TryResumeWrites after a no-space write error, or
//! Db::TryReopenWritable after a read-only start on a full disk, which then calls
//! `on_reopened` (on this thread: e.g. to start what a read-only start left stopped). One
//! thread; stops on destruction. Other write errors stay latched (the probe leaves them alone).
class WriteResumer {
 public:
  WriteResumer(Db* db, std::chrono::milliseconds interval,
               std::function<void()> on_reopened = {});
  ~WriteResumer();
  WriteResumer(const WriteResumer&) = delete;
  WriteResumer& operator=(const WriteResumer&) = delete;

 private:
  void Loop();
  Status Probe();  // one attempt; Ok once writes are accepted

  Db* db_;
  std::chrono::milliseconds interval_;
  std::function<void()> on_reopened_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace papr::storage
