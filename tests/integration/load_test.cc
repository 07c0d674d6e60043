// Load against the real papr-server (OSS edition, features.max_queued_batches: 5):
// 200 concurrent keep-alive clients, each on ONE TCP connection sending several rounds of
// POST /v1/memory, GET /v1/memory/{id} and POST /v1/memory/search, plus bursts of concurrent
// batch submits that overflow the executor queue. API.md: every answer is 2xx, or the
// documented busy answer (429/503 with Retry-After, error envelope); no connection is dropped;
// once the load is gone new requests succeed (the server recovers). Bounded counts and time.
//
// net::HttpCall opens a connection per request, so the keep-alive client here is a small
// synchronous Boost.Beast client (tcp_stream + http::write/read).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/integration/api_client.h"
#include "tests/integration/batch_polling.h"
#include "tests/integration/server_process.h"

namespace papr::integration {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

constexpr int kClients = 200;
constexpr int kRounds = 10;         // x 3 requests per round, all on one connection
constexpr int kBursts = 4;
constexpr int kSubmitsPerBurst = 30;
constexpr int kMemoriesPerBatch = 20;

struct Answer {
  int status = 0;  // 0: transport error
  std::string body;
  std::string retry_after;
  bool keep_alive = false;
  std::string error;
};

//! One keep-alive HTTP/1.1 connection to 127.0.0.1:port. Not thread-safe.
class KeepAliveClient {
 public:
  KeepAliveClient(int port, std::string key) : port_(port), key_(std::move(key)) {}

  bool Connect(std::string* error) {
    beast::error_code ec;
    stream_.expires_after(std::chrono::seconds(20));
    stream_.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                            static_cast<unsigned short>(port_)),
                    ec);
    if (ec) {
      *error = "connect: " + ec.message();
      return false;
    }
    ++connections_;
    open_ = true;
    return true;
  }

  Answer Send(http::verb method, const std::string& target, const std::string& body = "",
              const std::string& idempotency_key = "") {
    Answer out;
    if (!open_) {
      out.error = "connection not open";
      return out;
    }
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
    req.set("X-API-Key", key_);
    req.keep_alive(true);
    if (!idempotency_key.empty()) req.set("Idempotency-Key", idempotency_key);
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    beast::error_code ec;
    stream_.expires_after(std::chrono::seconds(30));
    http::write(stream_, req, ec);
    if (ec) {
      out.error = "write: " + ec.message();
      open_ = false;
      return out;
    }
    http::response<http::string_body> res;
    http::read(stream_, buffer_, res, ec);
    if (ec) {
      out.error = "read: " + ec.message();
      open_ = false;
      return out;
    }
    out.status = res.result_int();
    out.body = std::move(res.body());
    auto it = res.find(http::field::retry_after);
    if (it != res.end()) out.retry_after = std::string(it->value());
    out.keep_alive = res.keep_alive();
    if (!out.keep_alive) open_ = false;
    ++requests_;
    return out;
  }

  bool open() const { return open_; }
  int connections() const { return connections_; }

  ~KeepAliveClient() {
    beast::error_code ec;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  }

 private:
  int port_;
  std::string key_;
  asio::io_context ioc_;
  beast::tcp_stream stream_{ioc_};
  beast::flat_buffer buffer_;
  bool open_ = false;
  int connections_ = 0;
  int requests_ = 0;
};

// Shared tallies of every answer.
class Tally {
 public:
  void Record(const std::string& what, const Answer& a, double ms) {
    std::lock_guard lock(mu_);
    latencies_ms_.push_back(ms);
    if (a.status >= 200 && a.status < 300) {
      ok_++;
      return;
    }
    if ((a.status == 429 || a.status == 503) && !a.retry_after.empty() && IsEnvelope(a)) {
      busy_[what + " " + std::to_string(a.status)]++;
      return;
    }
    bad_++;
    if (examples_.size() < 20) {
      examples_.push_back(what + ": " +
                          (a.status == 0 ? "no answer (" + a.error + ")"
                                         : "HTTP " + std::to_string(a.status) + " retry-after '" +
                                               a.retry_after + "' " + a.body.substr(0, 300)));
    }
  }
  void Bad(const std::string& why) {
    std::lock_guard lock(mu_);
    bad_++;
    if (examples_.size() < 20) examples_.push_back(why);
  }
  int64_t ok() const {
    std::lock_guard lock(mu_);
    return ok_;
  }
  int64_t bad() const {
    std::lock_guard lock(mu_);
    return bad_;
  }
  std::map<std::string, int64_t> busy() const {
    std::lock_guard lock(mu_);
    return busy_;
  }
  std::vector<std::string> examples() const {
    std::lock_guard lock(mu_);
    return examples_;
  }
  double Percentile(double p) {
    std::lock_guard lock(mu_);
    if (latencies_ms_.empty()) return 0;
    std::sort(latencies_ms_.begin(), latencies_ms_.end());
    size_t i = std::min(latencies_ms_.size() - 1,
                        static_cast<size_t>(p * static_cast<double>(latencies_ms_.size())));
    return latencies_ms_[i];
  }

 private:
  static bool IsEnvelope(const Answer& a) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(a.body).get(doc) != simdjson::SUCCESS) return false;
    int64_t code;
    std::string_view status, error;
    return doc["code"].get(code) == simdjson::SUCCESS && code == a.status &&
           doc["status"].get(status) == simdjson::SUCCESS && status == "error" &&
           doc["error"].get(error) == simdjson::SUCCESS && !error.empty();
  }

  mutable std::mutex mu_;
  int64_t ok_ = 0, bad_ = 0;
  std::map<std::string, int64_t> busy_;
  std::vector<std::string> examples_;
  std::vector<double> latencies_ms_;
};

double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

std::string JsonString(const std::string& body, const char* a, const char* b = nullptr,
                       int index = -1, const char* c = nullptr) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS) return "";
  simdjson::dom::element e;
  if (doc[a].get(e) != simdjson::SUCCESS) return "";
  if (b != nullptr && e[b].get(e) != simdjson::SUCCESS) return "";
  if (index >= 0 && e.at(static_cast<size_t>(index)).get(e) != simdjson::SUCCESS) return "";
  if (c != nullptr && e[c].get(e) != simdjson::SUCCESS) return "";
  std::string_view v;
  return e.get(v) == simdjson::SUCCESS ? std::string(v) : "";
}

std::string BatchBody(int burst, int k) {
  std::string body = "{\"memories\":[";
  for (int i = 0; i < kMemoriesPerBatch; ++i) {
    if (i > 0) body += ",";
    body += "{\"content\":\"burst " + std::to_string(burst) + " batch " + std::to_string(k) +
            " memory " + std::to_string(i) + " ldb" + std::to_string(burst) + "x" +
            std::to_string(k) + "x" + std::to_string(i) + " about the weather\"}";
  }
  return body + "]}";
}

class LoadIntegrationTest : public ::testing::Test {};

TEST_F(LoadIntegrationTest, TwoHundredKeepAliveClientsAndBatchBurstsOnlyGet2xxOr429AndRecover) {
  ServerOptions options;  // OSS edition
  options.extra_yaml = "features:\n  max_queued_batches: 5\nlogging:\n  level: warn\n";
  ServerProcess server(options);
  ASSERT_TRUE(server.Start());
  const int port = server.port();
  const auto t0 = Clock::now();
  const auto hard_deadline = t0 + std::chrono::seconds(50);

  Tally tally;
  std::atomic<int> connected{0}, connect_failures{0}, reconnects{0};
  std::atomic<int64_t> memories_added{0};
  std::mutex go_mu;
  std::condition_variable go_cv;
  bool go = false;

  std::vector<std::thread> clients;
  clients.reserve(kClients);
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      KeepAliveClient client(port, kTestApiKey);
      std::string error;
      if (!client.Connect(&error)) {
        connect_failures++;
        tally.Bad("client " + std::to_string(c) + " " + error);
        return;
      }
      connected++;
      {
        std::unique_lock lock(go_mu);
        go_cv.wait(lock, [&] { return go; });
      }
      for (int round = 0; round < kRounds && Clock::now() < hard_deadline; ++round) {
        if (!client.open()) {
          // The server closed a keep-alive connection (or a request failed): count and reopen.
          reconnects++;
          if (!client.Connect(&error)) {
            tally.Bad("client " + std::to_string(c) + " reconnect: " + error);
            return;
          }
        }
        const std::string token = "ldc" + std::to_string(c) + "x" + std::to_string(round);
        auto t = Clock::now();
        Answer added = client.Send(http::verb::post, "/v1/memory",
                                   "{\"content\":\"client " + std::to_string(c) + " round " +
                                       std::to_string(round) + " note " + token +
                                       " about keep alive connections\"}");
        tally.Record("POST /v1/memory", added, MsSince(t));
        if (added.status == 0) continue;
        std::string id = JsonString(added.body, "data", nullptr, 0, "memoryId");
        if (added.status == 200) {
          memories_added++;
          if (id.empty()) tally.Bad("POST /v1/memory 200 without data[0].memoryId: " + added.body);
        }
        if (!id.empty() && client.open()) {
          t = Clock::now();
          Answer got = client.Send(http::verb::get, "/v1/memory/" + id);
          tally.Record("GET /v1/memory/{id}", got, MsSince(t));
          if (got.status == 200 && got.body.find(token) == std::string::npos) {
            tally.Bad("GET " + id + " does not have the content: " + got.body.substr(0, 200));
          }
        }
        if (client.open()) {
          t = Clock::now();
          Answer found = client.Send(http::verb::post, "/v1/memory/search?max_memories=5",
                                     "{\"query\":\"" + token + "\"}");
          tally.Record("POST /v1/memory/search", found, MsSince(t));
          if (found.status == 200 && added.status == 200 &&
              found.body.find(token) == std::string::npos) {
            tally.Bad("search for " + token + " after its 200 does not find it");
          }
        }
      }
      if (client.connections() > 1) {
        tally.Bad("client " + std::to_string(c) + " needed " +
                  std::to_string(client.connections()) + " connections (keep-alive broken)");
      }
    });
  }

  // Wait until every client holds its connection, then release them together.
  while (connected + connect_failures < kClients && Clock::now() < hard_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(connected.load(), kClients) << "concurrent connections accepted";
  {
    std::lock_guard lock(go_mu);
    go = true;
  }
  go_cv.notify_all();

  // Meanwhile: bursts of concurrent batch submits (each submitter on its own keep-alive
  // connection, several submits each), overflowing max_queued_batches (5).
  std::atomic<int> accepted{0}, rejected{0};
  std::mutex ids_mu;
  std::vector<std::string> batch_ids;
  for (int burst = 0; burst < kBursts; ++burst) {
    std::vector<std::thread> submitters;
    for (int k = 0; k < kSubmitsPerBurst; ++k) {
      submitters.emplace_back([&, burst, k] {
        KeepAliveClient client(port, kTestApiKey);
        std::string error;
        if (!client.Connect(&error)) {
          tally.Bad("submitter connect: " + error);
          return;
        }
        auto t = Clock::now();
        Answer a = client.Send(http::verb::post, "/v1/memory/batch", BatchBody(burst, k));
        tally.Record("POST /v1/memory/batch", a, MsSince(t));
        if (a.status == 202) {
          accepted++;
          std::lock_guard lock(ids_mu);
          batch_ids.push_back(JsonString(a.body, "batch_id"));
        } else if (a.status == 429) {
          rejected++;
        }
      });
    }
    for (auto& t : submitters) t.join();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  for (auto& t : clients) t.join();
  const double load_ms = MsSince(t0);

  // Recovery: once the load is gone, new requests succeed.
  ApiClient api(port, kTestApiKey);
  EXPECT_EQ(api.Get("/healthz").status, 200);
  Reply fresh = api.Post("/v1/memory", R"({"content":"after the load ldafter1 recovered"})");
  EXPECT_EQ(fresh.status, 200) << fresh.Describe();
  Reply search = api.Post("/v1/memory/search", R"({"query":"ldafter1"})");
  EXPECT_EQ(search.status, 200) << search.Describe();
  // A batch is accepted again once the queue drains (honouring Retry-After), and completes.
  Reply batch;
  auto recover_deadline = Clock::now() + std::chrono::seconds(30);
  int busy_after = 0;
  while (true) {
    batch = api.Call("POST", "/v1/memory/batch?wait=30", BatchBody(99, 0), {}, 40000);
    if (batch.status != 429 && batch.status != 503) break;
    ++busy_after;
    if (Clock::now() > recover_deadline) break;
    int retry_after = std::max(1, std::atoi(std::string(batch.Header("retry-after")).c_str()));
    std::this_thread::sleep_for(std::chrono::seconds(std::min(retry_after, 2)));
  }
  EXPECT_EQ(batch.status, 200) << "batch after the load: " << batch.Describe();

  // Every accepted batch of the bursts completed with all its memories.
  int completed = 0;
  for (const auto& id : batch_ids) {
    ASSERT_FALSE(id.empty());
    Reply st = WaitForEnd(api, id, std::chrono::seconds(30));
    ASSERT_EQ(st.status, 200) << st.Describe();
    EXPECT_EQ(Str(st.Json()["status"]), "completed") << st.body;
    EXPECT_EQ(Int(st.Json()["request_counts"]["succeeded"]), kMemoriesPerBatch) << st.body;
    completed += Str(st.Json()["status"]) == "completed";
  }
  const double total_s = std::chrono::duration<double>(Clock::now() - t0).count();

  auto busy = tally.busy();
  std::string busy_text;
  for (const auto& [what, n] : busy) busy_text += " " + what + "=" + std::to_string(n);
  std::printf(
      "[ load ] %d keep-alive clients x %d rounds x 3 requests + %d bursts x %d batch submits in "
      "%.1f s: %lld 2xx, busy:%s, other: %lld; latency p50 %.1f ms, p99 %.1f ms; reconnects %d\n"
      "[ load ] batches: %d accepted (all completed: %d), %d refused with 429; %lld memories "
      "added; after the load: %d busy answers before a batch was accepted; total %.1f s\n",
      kClients, kRounds, kBursts, kSubmitsPerBurst, load_ms / 1000.0,
      static_cast<long long>(tally.ok()), busy_text.empty() ? " none" : busy_text.c_str(),
      static_cast<long long>(tally.bad()), tally.Percentile(0.5), tally.Percentile(0.99),
      reconnects.load(), accepted.load(), completed, rejected.load(),
      static_cast<long long>(memories_added.load()), busy_after, total_s);

  for (const auto& e : tally.examples()) ADD_FAILURE() << "unexpected answer: " << e;
  EXPECT_EQ(tally.bad(), 0);
  EXPECT_EQ(reconnects.load(), 0) << "keep-alive connections were dropped under load";
  EXPECT_EQ(memories_added.load(), static_cast<int64_t>(kClients) * kRounds)
      << "POST /v1/memory is not expected to be refused";
  EXPECT_GT(rejected.load(), 0) << "no 429 although bursts of " << kSubmitsPerBurst
                                << " exceed max_queued_batches 5";
  EXPECT_GT(accepted.load(), 0);
  EXPECT_LT(total_s, 60.0);
  EXPECT_EQ(server.Terminate(), 0);
}

}  // namespace
}  // namespace papr::integration
