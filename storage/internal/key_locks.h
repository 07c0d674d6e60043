#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace papr::storage::internal {

//! Exclusive holds on individual keys: a batch with Inserts holds the keys it inserts from its
//! existence check to the end of its synced write, so two inserts of one key are serialised
//! while batches with different keys proceed together (and share a WAL sync). Striped mutexes
//! did the same with false sharing: a batch of ~50 inserts held most of 64 stripes across its
//! fsync and so serialised nearly every other inserting batch. Keys are taken all at once
//! (all or none), so holders never deadlock. Thread-safe.
class KeyLocks {
 public:
  //! Releases its keys on destruction.
  class Hold {
   public:
    Hold(KeyLocks* locks, std::vector<std::string> keys)
        : locks_(locks), keys_(std::move(keys)) {}
    Hold(Hold&& o) noexcept : locks_(std::exchange(o.locks_, nullptr)), keys_(std::move(o.keys_)) {}
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    Hold& operator=(Hold&&) = delete;
    ~Hold() {
      if (locks_ != nullptr) locks_->Release(keys_);
    }

   private:
    KeyLocks* locks_;
    std::vector<std::string> keys_;
  };

  // Waits until no other holder has any of `keys`, then holds them all.
  // REQUIRES: `keys` has no duplicates.
  Hold Acquire(std::vector<std::string> keys) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] {
      for (const auto& k : keys) {
        if (held_.count(k) != 0) return false;
      }
      return true;
    });
    for (const auto& k : keys) held_.insert(k);
    return Hold(this, std::move(keys));
  }

 private:
  void Release(const std::vector<std::string>& keys) {
    {
      std::lock_guard lock(mu_);
      for (const auto& k : keys) held_.erase(k);
    }
    cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_set<std::string> held_;
};

}  // namespace papr::storage::internal
