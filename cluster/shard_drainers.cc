#include "cluster/shard_drainers.h"

namespace papr::cluster {

ShardDrainers::ShardDrainers(size_t threads, std::function<void(uint32_t)> drain)
    : drain_(std::move(drain)) {
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

ShardDrainers::~ShardDrainers() { Stop(); }

void ShardDrainers::Enqueue(uint32_t shard) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    if (draining_.contains(shard)) {
      again_.insert(shard);
      return;
    }
    if (!queued_.insert(shard).second) return;
    queue_.push_back(shard);
  }
  ready_.notify_one();
}

void ShardDrainers::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    queue_.clear();
    queued_.clear();
  }
  ready_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void ShardDrainers::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    const uint32_t shard = queue_.front();
    queue_.pop_front();
    queued_.erase(shard);
    draining_.insert(shard);
    lock.unlock();
    drain_(shard);
    lock.lock();
    draining_.erase(shard);
    if (again_.erase(shard) > 0 && !stopping_ && queued_.insert(shard).second) {
      queue_.push_back(shard);
      ready_.notify_one();
    }
  }
}

}  // namespace papr::cluster
