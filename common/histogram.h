#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>

namespace papr {

//! A fixed-bucket histogram with lock-free updates, rendered in Prometheus text format.
//! Bucket bounds are upper bounds in the observed unit. Thread-safe.
template <size_t N>
class Histogram {
 public:
  explicit constexpr Histogram(std::array<double, N> bounds) : bounds_(bounds) {}

  void Observe(double value) {
    for (size_t i = 0; i < N; ++i) {
      if (value <= bounds_[i]) buckets_[i].fetch_add(1, std::memory_order_relaxed);
    }
    count_.fetch_add(1, std::memory_order_relaxed);
    // Sum kept in micro-units to stay integral and atomic.
    sum_micro_.fetch_add(static_cast<int64_t>(value * 1e6), std::memory_order_relaxed);
  }

  // Appends `name_bucket{le=...}`, `name_sum`, `name_count` lines (with `labels`, e.g.
  // `type="x"`, possibly empty).
  void Render(std::string* out, const std::string& name, const std::string& labels = "") const {
    std::string sep = labels.empty() ? "" : ",";
    for (size_t i = 0; i < N; ++i) {
      char le[32];
      std::snprintf(le, sizeof(le), "%g", bounds_[i]);
      *out += name + "_bucket{" + labels + sep + "le=\"" + le + "\"} " +
              std::to_string(buckets_[i].load()) + "\n";
    }
    *out += name + "_bucket{" + labels + sep + "le=\"+Inf\"} " + std::to_string(count_.load()) + "\n";
    std::string braces = labels.empty() ? "" : "{" + labels + "}";
    char sum[48];
    std::snprintf(sum, sizeof(sum), "%.6f", static_cast<double>(sum_micro_.load()) / 1e6);
    *out += name + "_sum" + braces + " " + sum + "\n";
    *out += name + "_count" + braces + " " + std::to_string(count_.load()) + "\n";
  }

 private:
  std::array<double, N> bounds_;
  std::array<std::atomic<int64_t>, N> buckets_{};
  std::atomic<int64_t> count_{0};
  std::atomic<int64_t> sum_micro_{0};
};

}  // namespace papr
