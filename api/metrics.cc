#include "api/metrics.h"

#include <tuple>

#include "common/memory_release.h"

namespace papr::api {

std::string Metrics::RouteLabel(const std::string& path) {
  static const char* kFixed[] = {"/healthz", "/readyz", "/metrics", "/v1/memory",
                                 "/v1/memory/search", "/v1/memory/batch", "/v1/usage"};
  for (const char* f : kFixed) {
    if (path == f) return f;
  }
  // Only fixed strings become labels: ids in paths would grow the series without bound.
  auto ends_with = [&](std::string_view suffix) {
    return path.size() >= suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (path.rfind("/v1/memory/batch/status/", 0) == 0) {
    return ends_with("/events") ? "/v1/memory/batch/status/{id}/events"
                                : "/v1/memory/batch/status/{id}";
  }
  if (path.rfind("/v1/memory/batch/", 0) == 0) {
    if (ends_with("/results")) return "/v1/memory/batch/{id}/results";
    if (ends_with("/cancel")) return "/v1/memory/batch/{id}/cancel";
    return "other";
  }
  if (path.rfind("/v1/admin/", 0) == 0) return "/v1/admin";
  if (path.rfind("/ui/", 0) == 0 || path == "/ui") return "/ui";
  if (path.rfind("/v1/memory/", 0) == 0) return "/v1/memory/{id}";
  return "other";
}

void Metrics::CountRequest(const std::string& method, const std::string& route, int code,
                           double seconds) {
  std::lock_guard lock(mu_);
  requests_[{method, route, code}]++;
  Latency& l = latency_[route];
  for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) l.buckets[i]++;
  }
  l.count++;
  l.sum += seconds;
}

void Metrics::ObserveBatchSize(int64_t memories) {
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < kBatchBuckets.size(); ++i) {
    if (memories <= kBatchBuckets[i]) batch_buckets_[i]++;
  }
  batch_count_++;
  batch_sum_ += memories;
}

std::string Metrics::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out += "# HELP papr_http_requests_total HTTP requests by method, route and status code.\n";
  out += "# TYPE papr_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [method, route, code] = key;
    out += "papr_http_requests_total{method=\"" + method + "\",route=\"" + route + "\",code=\"" +
           std::to_string(code) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP papr_http_request_duration_seconds Request latency by route.\n";
  out += "# TYPE papr_http_request_duration_seconds histogram\n";
  for (const auto& [route, l] : latency_) {
    std::string base = "papr_http_request_duration_seconds";
    for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      char le[32];
      std::snprintf(le, sizeof(le), "%g", kLatencyBuckets[i]);
      out += base + "_bucket{route=\"" + route + "\",le=\"" + le + "\"} " +
             std::to_string(l.buckets[i]) + "\n";
    }
    out += base + "_bucket{route=\"" + route + "\",le=\"+Inf\"} " + std::to_string(l.count) + "\n";
    out += base + "_sum{route=\"" + route + "\"} " + std::to_string(l.sum) + "\n";
    out += base + "_count{route=\"" + route + "\"} " + std::to_string(l.count) + "\n";
  }
  out += "# HELP papr_batch_size_memories Memories per accepted batch.\n";
  out += "# TYPE papr_batch_size_memories histogram\n";
  for (size_t i = 0; i < kBatchBuckets.size(); ++i) {
    out += "papr_batch_size_memories_bucket{le=\"" + std::to_string(kBatchBuckets[i]) + "\"} " +
           std::to_string(batch_buckets_[i]) + "\n";
  }
  out += "papr_batch_size_memories_bucket{le=\"+Inf\"} " + std::to_string(batch_count_) + "\n";
  out += "papr_batch_size_memories_sum " + std::to_string(batch_sum_) + "\n";
  out += "papr_batch_size_memories_count " + std::to_string(batch_count_) + "\n";
  out += "# HELP papr_batches_rejected_for_size_total Batches refused with 413 (over the limit).\n";
  out += "# TYPE papr_batches_rejected_for_size_total counter\n";
  out += "papr_batches_rejected_for_size_total " + std::to_string(rejected_for_size_.load()) + "\n";
  return out + ProcessMemoryText();
}

// The process's memory: what it holds now and at its peak, and what idle trims gave back.
std::string Metrics::ProcessMemoryText() {
  MemoryReleaseStats released = GetMemoryReleaseStats();
  struct Row {
    const char *name, *type, *help;
    int64_t value;
  };
  const Row rows[] = {
      {"papr_process_resident_memory_bytes", "gauge", "Resident set size (VmRSS).",
       ResidentBytes()},
      {"papr_process_peak_resident_memory_bytes", "gauge", "Peak resident set size (VmHWM).",
       PeakResidentBytes()},
      {"papr_process_memory_trims_total", "counter",
       "Times freed heap memory was given back to the OS once the server went idle.",
       released.trims},
      {"papr_process_memory_trimmed_bytes_total", "counter",
       "Resident bytes those trims gave back.", released.released_bytes},
  };
  std::string out;
  for (const Row& r : rows) {
    out += std::string("# HELP ") + r.name + " " + r.help + "\n# TYPE " + r.name + " " + r.type +
           "\n" + r.name + " " + std::to_string(r.value) + "\n";
  }
  return out;
}

}  // namespace papr::api
