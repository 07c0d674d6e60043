#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "common/histogram.h"

namespace papr::engine {

//! What the engine counts for /metrics. Updated lock-free from runner and worker threads.
struct EngineMetrics {
  Histogram<9> commit_seconds{{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25}};
  Histogram<7> events_per_commit{{1, 2, 5, 10, 50, 100, 1000}};
  Histogram<9> activity_seconds{{0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 1, 10}};
  std::atomic<int64_t> activity_attempts{0};
  std::atomic<int64_t> activity_attempt_failures{0};
  std::atomic<int64_t> activity_retries{0};
  std::atomic<int64_t> activities_failed{0};  // retries exhausted or not retryable
  std::atomic<int64_t> recovery_ms{0};
  std::atomic<int64_t> recovered_workflows{0};
  std::atomic<int64_t> commit_failures{0};     // transitions the store did not take
  std::atomic<int64_t> rebuilt_workflows{0};   // executions rebuilt after a failed commit
  std::atomic<int64_t> rebuilds_pending{0};    // executions waiting to be rebuilt
  std::atomic<int64_t> inbox_posted{0};        // cluster: starts posted for another owner
  std::atomic<int64_t> inbox_applied{0};       // cluster: posted starts this node applied
  std::atomic<int64_t> fencing_rejections{0};  // cluster: commits refused by a shard's fence

  // Prometheus text of these counters.
  std::string Render() const;
};

}  // namespace papr::engine
