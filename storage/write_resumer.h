#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace papr::storage {

class Db;

//! Probes a Db that refuses writes after a no-space error and resumes it once space is back
//! (Db::TryResumeWrites), so write service returns without a restart. One thread; stops on
//! destruction. Other write errors stay latched (the probe leaves them alone).
class WriteResumer {
 public:
  WriteResumer(Db* db, std::chrono::milliseconds interval);
  ~WriteResumer();
  WriteResumer(const WriteResumer&) = delete;
  WriteResumer& operator=(const WriteResumer&) = delete;

 private:
  void Loop();

  Db* db_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace papr::storage
