#pragma once

// A fixed pool of threads that apply the inboxes of shards (cluster mode). Each applied start
// is a synced commit: a node that drained shard after shard on one thread ran the starts other
// nodes posted at one commit latency each (W2 on two nodes at a third of one node's). Here a
// notified shard is taken by the next free thread at once; one thread at a time drains a
// shard (its rows keep their order), and a shard notified while it drains is drained again.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace papr::cluster {

class ShardDrainers {
 public:
  // `drain(shard)` applies one shard's inbox; it is called from `threads` threads.
  ShardDrainers(size_t threads, std::function<void(uint32_t)> drain);
  ~ShardDrainers();  // Stop()
  ShardDrainers(const ShardDrainers&) = delete;
  ShardDrainers& operator=(const ShardDrainers&) = delete;

  // Drains `shard` soon (again after the drain running now, if one is).
  void Enqueue(uint32_t shard);
  // Lets the running drains finish and drops the queued ones.
  void Stop();

 private:
  void Run();

  const std::function<void(uint32_t)> drain_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<uint32_t> queue_;
  std::set<uint32_t> queued_;    // in queue_
  std::set<uint32_t> draining_;  // taken by a thread
  std::set<uint32_t> again_;     // notified while draining
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace papr::cluster
