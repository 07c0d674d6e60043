#pragma once

// The load driver's HTTP side (bench/load.cc, bench/load_cluster.cc): batch bodies of the
// bench corpus, calls with the test API key, batch counts, submit-and-wait.

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <simdjson.h>

#include "bench/bench_corpus.h"
#include "common/json_writer.h"
#include "net/http_client.h"
#include "tests/integration/server_process.h"

namespace papr::bench {

using Clock = std::chrono::steady_clock;

inline double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

inline std::string BatchBody(int64_t first, int64_t count) {
  papr::JsonWriter w;
  w.BeginObject().Key("memories").BeginArray();
  for (int64_t i = first; i < first + count; ++i) {
    w.BeginObject().Field("content", MemoryText(i)).EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

struct Http {
  int port;
  papr::Result<papr::net::HttpClientResponse> Call(const std::string& method,
                                                   const std::string& path,
                                                   const std::string& body = "") const {
    papr::net::HttpClientRequest req;
    req.method = method;
    req.url = "http://127.0.0.1:" + std::to_string(port) + path;
    req.headers = {{"x-api-key", papr::integration::kTestApiKey},
                   {"content-type", "application/json"}};
    req.body = body;
    req.timeout_ms = 120000;
    req.max_response_bytes = 64 << 20;
    return papr::net::HttpCall(req);
  }
};

inline std::string Field(const std::string& json, const char* key) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS) return "";
  std::string_view v;
  if (doc[key].get(v) == simdjson::SUCCESS) return std::string(v);
  return "";
}

struct Counts {
  std::string status;
  int64_t total = 0, succeeded = 0, failed = 0;
};

inline Counts GetCounts(const Http& http, const std::string& id) {
  Counts c;
  auto r = http.Call("GET", "/v1/memory/batch/status/" + id);
  if (!r.ok()) return c;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(r->body).get(doc) != simdjson::SUCCESS) return c;
  std::string_view s;
  if (doc["status"].get(s) == simdjson::SUCCESS) c.status = s;
  int64_t v;
  if (doc["request_counts"]["total"].get(v) == simdjson::SUCCESS) c.total = v;
  if (doc["request_counts"]["succeeded"].get(v) == simdjson::SUCCESS) c.succeeded = v;
  if (doc["request_counts"]["failed"].get(v) == simdjson::SUCCESS) c.failed = v;
  return c;
}

inline bool Finished(const std::string& s) {
  return s == "completed" || s == "partial" || s == "failed" || s == "cancelled";
}

// Submits and waits with ?wait= (the server answers as soon as the batch ends).
inline std::string SubmitAndWait(const Http& http, const std::string& body, int* code) {
  auto r = http.Call("POST", "/v1/memory/batch?wait=60", body);
  *code = r.ok() ? r->status : 0;
  return r.ok() ? Field(r->body, "batch_id") : "";
}

// Submits each of `bodies` with ?wait= from `in_flight` threads, body i to `http_for(i)`;
// how many completed (answered 200).
inline int SubmitAllAndWait(const std::vector<std::string>& bodies, int in_flight,
                            const std::function<Http(size_t)>& http_for) {
  std::atomic<size_t> next{0};
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < in_flight; ++t) {
    threads.emplace_back([&] {
      for (size_t i; (i = next++) < bodies.size();) {
        int code = 0;
        SubmitAndWait(http_for(i), bodies[i], &code);
        if (code == 200) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  return ok.load();
}

}  // namespace papr::bench
