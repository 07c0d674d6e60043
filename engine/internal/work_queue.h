#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace papr::engine::internal {

//! A fixed set of threads taking jobs from one queue.
template <typename Job>
class WorkQueue {
 public:
  void Start(int threads, std::function<void(Job&)> run) {
    run_ = std::move(run);
    workers_ = threads > 0 ? static_cast<size_t>(threads) : 0;
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
  }
  void Push(Job job) {
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }
  // One lock and one wake-up round for many jobs: pushing them one by one woke (and on a
  // loaded machine switched to) a worker per job.
  void PushAll(std::vector<Job> jobs) {
    if (jobs.empty()) return;
    {
      std::lock_guard lock(mu_);
      for (auto& job : jobs) jobs_.push_back(std::move(job));
    }
    // workers_, not threads_.size(): Stop clears threads_ while a runner may still push.
    for (size_t i = 0; i < jobs.size() && i < workers_; ++i) cv_.notify_one();
  }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void Loop() {
    while (true) {
      Job job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (stopping_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      run_(job);
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  size_t workers_ = 0;  // set by Start, before any push
  std::function<void(Job&)> run_;
};

}  // namespace papr::engine::internal
