#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace papr::api {

//! Process-wide counters in Prometheus text exposition format (GET /metrics). Thread-safe.
class Metrics {
 public:
  // `route` is a template label such as "/v1/memory/batch/status/{id}".
  void CountRequest(const std::string& method, const std::string& route, int code,
                    double seconds);
  void ObserveBatchSize(int64_t memories);
  void CountBatchRejectedForSize() { rejected_for_size_++; }
  std::string Render() const;

  // The route template of a request path (ids replaced by {id}).
  static std::string RouteLabel(const std::string& path);
  // papr_process_* : resident memory now and at peak, idle trims (common/memory_release.h).
  static std::string ProcessMemoryText();

 private:
  static constexpr std::array<double, 8> kLatencyBuckets = {0.001, 0.005, 0.01, 0.05,
                                                            0.1,   0.5,   1,    5};
  static constexpr std::array<int64_t, 6> kBatchBuckets = {1, 10, 50, 100, 1000, 10000};
  struct Latency {
    std::array<int64_t, kLatencyBuckets.size()> buckets{};
    int64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, int64_t> requests_;
  std::map<std::string, Latency> latency_;
  std::array<int64_t, kBatchBuckets.size()> batch_buckets_{};
  int64_t batch_count_ = 0;
  int64_t batch_sum_ = 0;
  std::atomic<int64_t> rejected_for_size_{0};
};

}  // namespace papr::api
