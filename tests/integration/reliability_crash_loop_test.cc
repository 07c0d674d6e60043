// Crash loop of the cloud edition against the real papr-server: one 10,000-memory batch and a
// stream of small batches (1-20 memories, half of them with an Idempotency-Key, every one with
// a webhook to an in-process Standard Webhooks receiver) while the server is killed with
// SIGKILL at pseudo-random moments (deterministic seed) and restarted on the same data dir.
//
// Contract checked (API.md): a 202 in the cloud edition means the batch is durably recorded and
// completes even if the server is killed the next instant; same Idempotency-Key + same body is
// the same batch; the webhook of every batch is delivered (same webhook-id on every retry).
// Submits that got no answer are retried with the same Idempotency-Key; a submit without a key
// that got no answer is not counted (it may or may not exist). At the end:
//   - every accepted batch is `completed`, with exact request_counts;
//   - the results pages list every index once, all `succeeded`, with distinct memoryIds
//     (also across batches);
//   - a search for the unique token of a sample of memories finds exactly that one memory;
//   - the receiver saw each batch's webhook (one webhook-id per batch, verified signature,
//     exact counts in the payload) and the batch status says webhook.status `delivered`;
//   - re-sending a keyed batch answers the same batch_id.
//
// The logic lives in RunCrashLoop() so that bench/soak.cc can run it for longer: it includes
// this file with PAPR_CRASH_LOOP_NO_TESTS defined.

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/integration/api_client.h"
#include "tests/integration/batch_polling.h"
#include "tests/integration/server_process.h"
#include "tools/webhook_receiver/receiver.h"

namespace papr::integration::crash_loop {

using SteadyClock = std::chrono::steady_clock;

struct CrashLoopOptions {
  int kills = 20;
  // > 0: the kill loop also ends after this many minutes (whichever comes first).
  double minutes = 0;
  int min_kill_interval_ms = 200;
  int max_kill_interval_ms = 1800;
  // The first `early_kills` come faster (at most `early_max_interval_ms` apart), so that the
  // big batch, which takes a few seconds, is killed several times.
  int early_kills = 5;
  int early_max_interval_ms = 700;
  int big_batch_memories = 10000;
  // Soak: submit a new big batch whenever the previous one has ended.
  bool repeat_big_batch = false;
  int submitter_threads = 2;
  int min_submit_gap_ms = 40;
  int max_submit_gap_ms = 250;
  // For this long before each kill the submitters send back to back, so that the kill finds
  // submits in flight (their retries are what the Idempotency-Key is for).
  int burst_before_kill_ms = 150;
  // After the kill loop: how long every accepted batch (and its webhook) may take to end.
  int final_wait_seconds = 120;
  // Memories of each big batch searched by token (small batches: one memory each).
  int big_search_sample = 100;
  // Small batches whose memory is searched (at most).
  int small_search_sample = 400;
  uint64_t seed = 0x5EED0C0FFEEull;
  bool verbose = false;
  // > 1: that many cluster nodes over one PostgreSQL database (the PostgreSQL stage's); each
  // kill picks one of them, submits and reads go to any node that is up.
  int nodes = 1;
};

struct CrashLoopReport {
  int kills = 0;            // SIGKILLs sent
  int restarts_ok = 0;      // successful restarts after a kill
  double seconds = 0;
  int64_t submits_sent = 0;
  int64_t batches_accepted = 0;
  int64_t big_batches = 0;
  int64_t keyed_batches = 0;
  int64_t keyed_retries = 0;         // re-sends of a keyed submit that got no answer
  int64_t unanswered_unkeyed = 0;    // not counted: may or may not exist
  int64_t busy_answers = 0;          // 429/503 answers to submits
  int64_t batches_checked = 0;       // completed with exact counts and results
  int64_t memories_checked = 0;      // result rows verified
  int64_t searches = 0;              // tokens found exactly once
  int64_t idempotent_resends = 0;    // keyed re-sends after the loop answering the same id
  int64_t webhooks_expected = 0;
  int64_t webhooks_delivered = 0;    // batches whose webhook reached the receiver
  int64_t webhook_requests = 0;      // requests the receiver saw (retries and duplicates too)
  int64_t webhook_duplicates = 0;    // re-deliveries of an accepted webhook-id
  int kills_during_big = 0;          // kills while a big batch was still running
  std::string big_progress_at_kills; // succeeded memories of the big batch at those kills
  int sigterm_exit_code = -1;
  std::vector<std::string> violations;

  std::string Figures() const {
    char buf[2400];
    std::snprintf(
        buf, sizeof(buf),
        "[ crash-loop ] kills survived: %d/%d in %.1f s\n"
        "[ crash-loop ] submits sent: %lld, batches accepted (202): %lld (big: %lld, keyed: %lld), "
        "keyed retries: %lld, unanswered unkeyed (not counted): %lld, 429/503: %lld\n"
        "[ crash-loop ] batches checked: %lld, memories checked: %lld (all succeeded, unique "
        "memoryIds), tokens searched (1 hit each): %lld, keyed re-sends (same batch): %lld\n"
        "[ crash-loop ] webhooks: expected %lld, delivered %lld, requests seen %lld, duplicate "
        "deliveries %lld; final SIGTERM exit %d; violations: %zu\n"
        "[ crash-loop ] kills while a big batch ran: %d (its succeeded count then: %s)\n",
        restarts_ok, kills, seconds, static_cast<long long>(submits_sent),
        static_cast<long long>(batches_accepted), static_cast<long long>(big_batches),
        static_cast<long long>(keyed_batches), static_cast<long long>(keyed_retries),
        static_cast<long long>(unanswered_unkeyed), static_cast<long long>(busy_answers),
        static_cast<long long>(batches_checked), static_cast<long long>(memories_checked),
        static_cast<long long>(searches), static_cast<long long>(idempotent_resends),
        static_cast<long long>(webhooks_expected), static_cast<long long>(webhooks_delivered),
        static_cast<long long>(webhook_requests), static_cast<long long>(webhook_duplicates),
        sigterm_exit_code, violations.size(), kills_during_big,
        big_progress_at_kills.empty() ? "-" : big_progress_at_kills.c_str());
    return buf;
  }
};

namespace detail {

constexpr const char* kWebhookSecret = "whsec_Y3Jhc2gtbG9vcC1zZWNyZXQtMDEyMzQ1Njc4OQ==";

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Unique search terms (letters then digits: one BM25 term each).
std::string SmallToken(int64_t seq, int j) {
  return "cl" + std::to_string(seq) + "x" + std::to_string(j);
}
std::string BigToken(int64_t gen, int i) {
  return "bg" + std::to_string(gen) + "x" + std::to_string(i);
}

std::string Filler(uint64_t state, size_t target, std::string text) {
  static const char* kWords[] = {"river",   "garden", "meeting", "project", "window",  "morning",
                                 "report",  "quiet",  "bright",  "travel",  "market",  "letter",
                                 "history", "summer", "careful", "simple",  "library", "kitchen",
                                 "station", "budget", "review",  "coffee",  "weather", "journey"};
  constexpr size_t kCount = sizeof(kWords) / sizeof(kWords[0]);
  while (text.size() < target) {
    state = Mix(state);
    text += " ";
    text += kWords[state % kCount];
  }
  return text + ".";
}

std::string SmallContent(int64_t seq, int j) {
  uint64_t s = Mix(static_cast<uint64_t>(seq) * 131 + static_cast<uint64_t>(j));
  return Filler(s, 120 + s % 150, "Crash loop note " + SmallToken(seq, j) + ":");
}

std::string BigContent(int64_t gen, int i) {
  uint64_t s = Mix((static_cast<uint64_t>(gen) << 32) + static_cast<uint64_t>(i));
  return Filler(s, 400 + s % 180, "Bulk memory " + BigToken(gen, i) + " of the crash loop:");
}

std::string BatchBody(int n, const std::function<std::string(int)>& content,
                      const std::string& webhook_url) {
  return integration::BatchBody(n, content, "\"webhook_url\":" + JsonQuote(webhook_url) +
                                                ",\"webhook_secret\":" + JsonQuote(kWebhookSecret));
}

struct Accepted {
  std::string batch_id;
  int64_t seq = 0;  // small batches: sequence number; big batches: generation
  int n = 0;
  bool big = false;
  std::string key;   // Idempotency-Key, empty if none
  std::string body;  // kept for keyed batches (re-sent after the loop)
};

class Shared {
 public:
  explicit Shared(const CrashLoopOptions& o) : options(o) {}

  static constexpr int kMaxNodes = 8;
  const CrashLoopOptions& options;
  std::atomic<int> ports[kMaxNodes] = {};  // by node; 0 while that node is down
  std::atomic<uint64_t> next_node{0};
  std::atomic<bool> stop_new{false};    // no new batches after the kill loop
  std::atomic<bool> burst{false};       // send without gaps (a kill is imminent)
  std::atomic<bool> abort{false};       // give up (the server cannot be restarted)
  std::atomic<int64_t> next_seq{0};
  std::atomic<int64_t> submits{0}, keyed_retries{0}, unanswered_unkeyed{0}, busy{0};
  std::string webhook_url;

  void SetBig(const std::string& id) {
    std::lock_guard lock(mu_);
    big_id_ = id;
  }
  std::string Big() {
    std::lock_guard lock(mu_);
    return big_id_;
  }

  void Violation(const std::string& what) {
    std::lock_guard lock(mu_);
    violations_.push_back(what);
    if (options.verbose) std::fprintf(stderr, "VIOLATION: %s\n", what.c_str());
  }
  void Add(Accepted a) {
    std::lock_guard lock(mu_);
    accepted_.push_back(std::move(a));
  }
  std::vector<Accepted> TakeAccepted() {
    std::lock_guard lock(mu_);
    return accepted_;
  }
  std::vector<std::string> Violations() {
    std::lock_guard lock(mu_);
    return violations_;
  }

  // The port of a node that is up (round-robin), 0 if none is.
  int AnyPort() {
    const int nodes = std::clamp(options.nodes, 1, kMaxNodes);
    for (int i = 0; i < nodes; ++i) {
      int p = ports[next_node.fetch_add(1) % static_cast<uint64_t>(nodes)].load();
      if (p != 0) return p;
    }
    return 0;
  }
  // A port of a node that is up, waiting while all are down. 0 if aborted.
  int WaitForPort() {
    while (!abort.load()) {
      if (int p = AnyPort(); p != 0) return p;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return 0;
  }

 private:
  std::mutex mu_;
  std::vector<Accepted> accepted_;
  std::vector<std::string> violations_;
  std::string big_id_;
};

enum class SubmitResult { kAccepted, kNotAccepted, kAborted };

// Sends a batch until it has a definite answer. Keyed: re-sent (same key, same body) after
// every non-answer (transport error, 429, 503). Unkeyed: one send; a non-answer is not counted.
SubmitResult SubmitUntilAnswered(Shared& shared, Accepted* a) {
  Headers headers;
  if (!a->key.empty()) headers.emplace_back("Idempotency-Key", a->key);
  for (int attempt = 0;; ++attempt) {
    int port = shared.WaitForPort();
    if (port == 0) return SubmitResult::kAborted;
    if (attempt > 0) shared.keyed_retries++;
    shared.submits++;
    ApiClient api(port, kTestApiKey);
    Reply r = api.Call("POST", "/v1/memory/batch", a->body, headers, 60000);
    if (r.status == 202) {
      try {
        a->batch_id = Str(r.Json()["batch_id"]);
        if (r.Header("location") != "/v1/memory/batch/status/" + a->batch_id) {
          shared.Violation("202 for " + a->batch_id + " has Location " +
                           std::string(r.Header("location")));
        }
      } catch (const std::exception& e) {
        shared.Violation(std::string("202 body is not the documented JSON: ") + e.what() +
                         ": " + r.body.substr(0, 500));
        return SubmitResult::kNotAccepted;
      }
      return SubmitResult::kAccepted;
    }
    const bool no_answer = r.status == 0 || r.status == 429 || r.status == 503;
    if (r.status == 429 || r.status == 503) shared.busy++;
    if (!no_answer) {
      shared.Violation("submit (" + std::to_string(a->n) + " memories, key '" + a->key +
                       "'): unexpected " + r.Describe());
      return SubmitResult::kNotAccepted;
    }
    if (a->key.empty()) {
      if (r.status == 0) shared.unanswered_unkeyed++;
      return SubmitResult::kNotAccepted;
    }
    if (attempt > 2000) {
      shared.Violation("keyed submit '" + a->key + "' never answered: " + r.Describe());
      return SubmitResult::kNotAccepted;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(r.status == 0 ? 20 : 200));
  }
}

void SmallSubmitter(Shared& shared, int thread_index) {
  std::mt19937_64 rng(shared.options.seed ^ (0x1000u + static_cast<uint64_t>(thread_index)));
  const CrashLoopOptions& o = shared.options;
  while (!shared.stop_new.load() && !shared.abort.load()) {
    Accepted a;
    a.seq = shared.next_seq.fetch_add(1);
    a.n = 1 + static_cast<int>(rng() % 20);
    if (rng() % 2 == 0) a.key = "crash-loop-" + std::to_string(a.seq);
    const int64_t seq = a.seq;
    a.body = BatchBody(a.n, [seq](int j) { return SmallContent(seq, j); }, shared.webhook_url);
    if (SubmitUntilAnswered(shared, &a) == SubmitResult::kAccepted) {
      if (a.key.empty()) a.body.clear();
      shared.Add(std::move(a));
    }
    int gap = o.min_submit_gap_ms +
              static_cast<int>(rng() % static_cast<uint64_t>(
                                           std::max(1, o.max_submit_gap_ms - o.min_submit_gap_ms)));
    for (int slept = 0; slept < gap && !shared.burst.load(); slept += 5) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
}

// Status of a batch from whichever server runs now; "" while unreachable.
std::string StatusOf(Shared& shared, const std::string& batch_id) {
  int port = shared.AnyPort();
  if (port == 0) return "";
  Reply r = ApiClient(port, kTestApiKey).Get("/v1/memory/batch/status/" + batch_id);
  if (r.status != 200) return "";
  try {
    return Str(r.Json()["status"]);
  } catch (const std::exception&) {
    return "";
  }
}

void BigSubmitter(Shared& shared) {
  const CrashLoopOptions& o = shared.options;
  for (int64_t gen = 0; !shared.stop_new.load() && !shared.abort.load(); ++gen) {
    Accepted a;
    a.big = true;
    a.seq = gen;
    a.n = o.big_batch_memories;
    a.key = "crash-loop-big-" + std::to_string(gen);
    a.body = BatchBody(a.n, [gen](int i) { return BigContent(gen, i); }, shared.webhook_url);
    if (SubmitUntilAnswered(shared, &a) != SubmitResult::kAccepted) return;
    a.body.clear();  // 6 MB: not re-sent after the loop
    const std::string id = a.batch_id;
    shared.SetBig(id);
    shared.Add(std::move(a));
    if (!o.repeat_big_batch) return;
    while (!shared.stop_new.load() && !shared.abort.load() && !IsTerminalState(StatusOf(shared, id))) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
}

struct ResultRow {
  int64_t index = -1;
  std::string memory_id, status;
};

// Every results row of a batch (paged, limit=1000). Empty + violation on errors.
std::vector<ResultRow> AllResults(Shared& shared, const ApiClient& api, const std::string& id) {
  std::vector<ResultRow> rows;
  std::string after;
  for (int page = 0; page < 1000; ++page) {
    std::string path = "/v1/memory/batch/" + id + "/results?limit=1000" +
                       (after.empty() ? "" : "&after=" + after);
    Reply r = api.Get(path);
    if (r.status != 200) {
      shared.Violation("GET " + path + ": " + r.Describe());
      return {};
    }
    try {
      simdjson::dom::element doc = r.Json();
      simdjson::dom::array results = doc["results"].get_array().value();
      for (simdjson::dom::element item : results) {
        rows.push_back({Int(item["index"]),
                        IsNull(item["memoryId"]) ? std::string() : Str(item["memoryId"]),
                        Str(item["status"])});
      }
      if (IsNull(doc["next_after"])) return rows;
      after = std::to_string(Int(doc["next_after"]));
    } catch (const std::exception& e) {
      shared.Violation("results page of " + id + " is not the documented JSON: " + e.what());
      return {};
    }
  }
  shared.Violation("results of " + id + " did not end within 1000 pages");
  return {};
}

// Waits until every batch has ended and its webhook is no longer pending.
void WaitForAll(Shared& shared, const ApiClient& api, const std::vector<Accepted>& accepted,
                std::map<std::string, std::string>* final_status) {
  auto deadline = SteadyClock::now() + std::chrono::seconds(shared.options.final_wait_seconds);
  for (const Accepted& a : accepted) {
    while (true) {
      Reply r = api.Get("/v1/memory/batch/status/" + a.batch_id);
      std::string state, webhook;
      if (r.status == 200) {
        try {
          state = Str(r.Json()["status"]);
          webhook = Str(r.Json()["webhook"]["status"]);
        } catch (const std::exception& e) {
          shared.Violation("status of " + a.batch_id + " is not the documented JSON: " +
                           e.what() + ": " + r.body.substr(0, 500));
          break;
        }
        if (IsTerminalState(state) && webhook != "pending" && webhook != "none") {
          (*final_status)[a.batch_id] = r.body;
          break;
        }
      }
      if (SteadyClock::now() > deadline) {
        shared.Violation("batch " + a.batch_id + " (" + std::to_string(a.n) +
                         " memories) not ended with its webhook within " +
                         std::to_string(shared.options.final_wait_seconds) +
                         " s after the kill loop; last: " + r.Describe().substr(0, 800));
        (*final_status)[a.batch_id] = r.status == 200 ? r.body : "";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

std::string ExpectedContent(const Accepted& a, int i) {
  return a.big ? BigContent(a.seq, i) : SmallContent(a.seq, i);
}
std::string ExpectedToken(const Accepted& a, int i) {
  return a.big ? BigToken(a.seq, i) : SmallToken(a.seq, i);
}

void CheckSearch(Shared& shared, const ApiClient& api, const Accepted& a, int i,
                 const std::string& memory_id, CrashLoopReport* report) {
  const std::string token = ExpectedToken(a, i);
  Reply r = api.Post("/v1/memory/search?max_memories=10", "{\"query\":" + JsonQuote(token) + "}");
  if (r.status != 200) {
    shared.Violation("search " + token + ": " + r.Describe());
    return;
  }
  try {
    simdjson::dom::array hits = r.Json()["data"]["memories"].get_array().value();
    if (hits.size() != 1) {
      shared.Violation("search for " + token + " (batch " + a.batch_id + " index " +
                       std::to_string(i) + ") found " + std::to_string(hits.size()) +
                       " memories, expected exactly 1: " + r.body.substr(0, 1500));
      return;
    }
    simdjson::dom::element hit = hits.at(0).value();
    if (Str(hit["content"]) != ExpectedContent(a, i)) {
      shared.Violation("search for " + token + " found other content: " +
                       Str(hit["content"]).substr(0, 200));
      return;
    }
    if (Str(hit["memoryId"]) != memory_id) {
      shared.Violation("search for " + token + " found memoryId " + Str(hit["memoryId"]) +
                       ", results say " + memory_id);
      return;
    }
    report->searches++;
  } catch (const std::exception& e) {
    shared.Violation("search answer for " + token + " is not the documented JSON: " + e.what());
  }
}

struct SeenWebhook {
  std::string webhook_id;
  bool mixed_ids = false;
  int accepted = 0;   // verified 2xx, not a duplicate
  int duplicates = 0;
  std::string body;   // of the accepted delivery
};

std::map<std::string, SeenWebhook> WebhooksByBatch(const tools::WebhookReceiver& receiver,
                                                   int64_t* requests) {
  std::map<std::string, SeenWebhook> out;
  std::vector<tools::ReceivedRequest> all = receiver.Requests();
  *requests = static_cast<int64_t>(all.size());
  simdjson::dom::parser parser;
  for (const auto& req : all) {
    std::string_view batch_id;
    simdjson::dom::element doc;
    if (parser.parse(req.body).get(doc) != simdjson::SUCCESS ||
        doc["data"]["batch_id"].get(batch_id) != simdjson::SUCCESS) {
      continue;
    }
    SeenWebhook& seen = out[std::string(batch_id)];
    if (seen.webhook_id.empty()) seen.webhook_id = req.webhook_id;
    if (seen.webhook_id != req.webhook_id) seen.mixed_ids = true;
    bool ok = req.status >= 200 && req.status < 300 && req.verified;
    if (ok && req.duplicate) seen.duplicates++;
    if (ok && !req.duplicate && !req.hung) {
      seen.accepted++;
      seen.body = req.body;
    }
  }
  return out;
}

void CheckBatch(Shared& shared, const ApiClient& api, const Accepted& a,
                const std::string& status_body, const std::map<std::string, SeenWebhook>& hooks,
                std::set<std::string>* all_ids, std::mt19937_64& rng, int64_t* small_searched,
                CrashLoopReport* report) {
  const std::string& id = a.batch_id;
  bool ok = true;
  auto fail = [&](const std::string& what) {
    shared.Violation("batch " + id + " (" + std::to_string(a.n) + " memories" +
                     (a.key.empty() ? "" : ", key " + a.key) + "): " + what);
    ok = false;
  };
  if (status_body.empty()) return;  // already reported
  try {
    simdjson::dom::parser parser;
    simdjson::dom::element st = parser.parse(status_body);
    if (Str(st["status"]) != "completed") fail("status " + Str(st["status"]) + ", expected completed");
    simdjson::dom::element rc = st["request_counts"];
    if (Int(rc["total"]) != a.n || Int(rc["succeeded"]) != a.n || Int(rc["failed"]) != 0 ||
        Int(rc["canceled"]) != 0 || Int(rc["processing"]) != 0) {
      fail("request_counts " + Raw(rc) + ", expected total=succeeded=" + std::to_string(a.n));
    }
    if (Int(st["total_successful"]) != a.n) fail("total_successful " + Raw(st["total_successful"]));
    if (Str(st["webhook"]["status"]) != "delivered") {
      fail("webhook " + Raw(st["webhook"]) + ", expected status delivered");
    }
  } catch (const std::exception& e) {
    fail(std::string("status is not the documented JSON: ") + e.what());
  }

  std::vector<ResultRow> rows = AllResults(shared, api, id);
  if (rows.size() != static_cast<size_t>(a.n)) {
    fail("results list " + std::to_string(rows.size()) + " rows, expected " + std::to_string(a.n));
  } else {
    int bad = 0;
    for (int i = 0; i < a.n; ++i) {
      const ResultRow& row = rows[static_cast<size_t>(i)];
      if (row.index != i || row.status != "succeeded" || row.memory_id.empty()) {
        if (++bad <= 3) {
          fail("results row " + std::to_string(i) + ": index " + std::to_string(row.index) +
               " status " + row.status + " memoryId '" + row.memory_id + "'");
        }
        continue;
      }
      if (!all_ids->insert(row.memory_id).second) {
        fail("memoryId " + row.memory_id + " (index " + std::to_string(i) +
             ") is listed twice (in this or another batch)");
      }
    }
    if (bad == 0) report->memories_checked += a.n;
  }

  // Exactly-once by search: the unique token of sampled memories has exactly one hit.
  if (rows.size() == static_cast<size_t>(a.n)) {
    std::vector<int> sample;
    if (a.big) {
      sample = {0, a.n - 1};
      while (static_cast<int>(sample.size()) < std::min(a.n, shared.options.big_search_sample)) {
        int k = static_cast<int>(rng() % static_cast<uint64_t>(a.n));
        if (std::find(sample.begin(), sample.end(), k) == sample.end()) sample.push_back(k);
      }
    } else if (*small_searched < shared.options.small_search_sample) {
      sample = {static_cast<int>(rng() % static_cast<uint64_t>(a.n))};
      ++*small_searched;
    }
    for (int i : sample) CheckSearch(shared, api, a, i, rows[static_cast<size_t>(i)].memory_id, report);
  }

  // The webhook: seen by the receiver, one webhook-id, verified, exact payload.
  auto it = hooks.find(id);
  if (it == hooks.end() || it->second.accepted == 0) {
    fail("the receiver never accepted its webhook");
  } else {
    const SeenWebhook& seen = it->second;
    if (seen.mixed_ids) fail("its webhook came with different webhook-ids");
    if (seen.accepted != 1) fail("webhook accepted " + std::to_string(seen.accepted) + " times");
    try {
      simdjson::dom::parser parser;
      simdjson::dom::element doc = parser.parse(seen.body);
      if (Str(doc["type"]) != "batch.completed") fail("webhook type " + Str(doc["type"]));
      simdjson::dom::element d = doc["data"];
      if (Int(d["total_memories"]) != a.n || Int(d["successful_memories"]) != a.n ||
          Int(d["failed_memories"]) != 0 || Str(d["status"]) != "completed") {
        fail("webhook data " + Raw(d).substr(0, 500));
      }
    } catch (const std::exception& e) {
      fail(std::string("webhook body is not the documented JSON: ") + e.what());
    }
    report->webhooks_delivered++;
    report->webhook_duplicates += seen.duplicates;
  }
  if (ok) report->batches_checked++;
}

}  // namespace detail

// Runs the whole scenario; never throws. `report.violations` lists every broken promise.
inline CrashLoopReport RunCrashLoop(const CrashLoopOptions& options) {
  using namespace detail;
  CrashLoopReport report;
  auto t0 = SteadyClock::now();
  Shared shared(options);
  auto log = [&](const std::string& line) {
    if (options.verbose) std::fprintf(stderr, "[crash-loop %.1fs] %s\n",
                                      std::chrono::duration<double>(SteadyClock::now() - t0).count(),
                                      line.c_str());
  };

  tools::ReceiverOptions receiver_options;
  receiver_options.secret = kWebhookSecret;
  receiver_options.tolerance_seconds = 600;
  tools::WebhookReceiver receiver(receiver_options);
  auto receiver_port = receiver.Start();
  if (!receiver_port.ok()) {
    report.violations.push_back("webhook receiver: " + receiver_port.status().ToString());
    return report;
  }
  shared.webhook_url = receiver.Url("/crash-loop");

  const int nodes = std::clamp(options.nodes, 1, Shared::kMaxNodes);
  std::vector<std::unique_ptr<ServerProcess>> servers;
  for (int n = 0; n < nodes; ++n) {
    ServerOptions server_options;
    server_options.config_file = ConfigPath("cloud.yaml");
    server_options.extra_yaml =
        "webhooks:\n  allow_private_targets: true\n  retry_schedule_seconds: [0, 1, 1, 1, 1]\n"
        "logging:\n  level: warn\n";
    if (nodes > 1) {
      server_options.extra_yaml +=
          "cluster:\n  enabled: true\n  shards: 16\n  heartbeat_interval_ms: 300\n"
          "  lease_ttl_ms: 3000\n  inbox_poll_ms: 100\n";
      if (n > 0) server_options.postgres_database = servers[0]->postgres_database();
    }
    server_options.start_timeout_ms = 60000;
    servers.push_back(std::make_unique<ServerProcess>(server_options));
    auto started = servers.back()->Start();
    if (!started) {
      report.violations.push_back("first start of node " + std::to_string(n) + ": " +
                                  started.message());
      return report;
    }
    shared.ports[n] = servers.back()->port();
  }

  std::vector<std::thread> threads;
  threads.emplace_back([&] { BigSubmitter(shared); });
  for (int t = 0; t < options.submitter_threads; ++t) {
    threads.emplace_back([&shared, t] { SmallSubmitter(shared, t); });
  }

  // The kill loop.
  std::mt19937_64 rng(options.seed);
  const auto loop_end = options.minutes > 0
                            ? t0 + std::chrono::milliseconds(static_cast<int64_t>(options.minutes * 60000))
                            : SteadyClock::time_point::max();
  for (int k = 0; options.kills <= 0 || k < options.kills; ++k) {
    const int max_ms = k < options.early_kills ? options.early_max_interval_ms
                                               : options.max_kill_interval_ms;
    const int span = std::max(1, max_ms - options.min_kill_interval_ms);
    const int wait_ms = options.min_kill_interval_ms + static_cast<int>(rng() % static_cast<uint64_t>(span));
    const int burst_ms = std::min(wait_ms, options.burst_before_kill_ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms - burst_ms));
    shared.burst = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(burst_ms));
    if (SteadyClock::now() >= loop_end) break;
    const int victim = nodes == 1 ? 0 : static_cast<int>(rng() % static_cast<uint64_t>(nodes));
    ServerProcess& server = *servers[static_cast<size_t>(victim)];
    if (std::string big = shared.Big(); !big.empty()) {
      Reply st = ApiClient(server.port(), kTestApiKey).Get("/v1/memory/batch/status/" + big);
      try {
        if (st.status == 200 && !IsTerminalState(Str(st.Json()["status"]))) {
          report.kills_during_big++;
          if (report.big_progress_at_kills.size() < 600) {
            report.big_progress_at_kills +=
                (report.big_progress_at_kills.empty() ? "" : ", ") +
                std::to_string(Int(st.Json()["request_counts"]["succeeded"]));
          }
        }
      } catch (const std::exception&) {
      }
    }
    server.Kill9();
    shared.ports[victim] = 0;
    shared.burst = false;
    report.kills++;
    auto again = server.Start();
    if (!again) {
      shared.abort = true;
      report.violations.push_back("restart after kill " + std::to_string(report.kills) + ": " +
                                  again.message());
      break;
    }
    shared.ports[victim] = server.port();
    report.restarts_ok++;
    log("kill " + std::to_string(report.kills) + " of node " + std::to_string(victim) + " after " +
        std::to_string(wait_ms) + " ms; restarted on port " + std::to_string(server.port()));
  }
  shared.stop_new = true;
  for (auto& t : threads) t.join();
  log("kill loop done; checking");

  std::vector<Accepted> accepted = shared.TakeAccepted();
  for (const auto& a : accepted) {
    report.batches_accepted++;
    report.big_batches += a.big;
    report.keyed_batches += !a.key.empty();
  }
  report.submits_sent = shared.submits;
  report.keyed_retries = shared.keyed_retries;
  report.unanswered_unkeyed = shared.unanswered_unkeyed;
  report.busy_answers = shared.busy;
  report.webhooks_expected = report.batches_accepted;

  if (!shared.abort) {
    ApiClient api(servers[0]->port(), kTestApiKey);
    std::map<std::string, std::string> final_status;
    WaitForAll(shared, api, accepted, &final_status);
    log("all batches ended");
    int64_t requests = 0;
    auto hooks = WebhooksByBatch(receiver, &requests);
    report.webhook_requests = requests;
    std::set<std::string> all_ids;
    std::mt19937_64 sample_rng(options.seed ^ 0xC0FFEE);
    int64_t small_searched = 0;
    std::set<std::string> batch_ids;
    for (const Accepted& a : accepted) {
      if (!batch_ids.insert(a.batch_id).second) {
        shared.Violation("two accepted submits answered the same batch_id " + a.batch_id);
      }
      CheckBatch(shared, api, a, final_status[a.batch_id], hooks, &all_ids, sample_rng,
                 &small_searched, &report);
    }
    // Same key + same body after all those restarts: the same batch, not a second run.
    for (const Accepted& a : accepted) {
      if (a.key.empty() || a.body.empty()) continue;
      Reply r = api.Call("POST", "/v1/memory/batch", a.body, {{"Idempotency-Key", a.key}}, 30000);
      std::string id;
      try {
        if (r.status == 202) id = Str(r.Json()["batch_id"]);
      } catch (const std::exception&) {
      }
      if (id != a.batch_id) {
        shared.Violation("re-sending key " + a.key + " answered " + r.Describe().substr(0, 300) +
                         ", expected 202 with batch_id " + a.batch_id);
      } else {
        report.idempotent_resends++;
      }
    }
    report.sigterm_exit_code = 0;
    for (int n = 0; n < nodes; ++n) {
      int code = servers[static_cast<size_t>(n)]->Terminate();
      if (code != 0) {
        report.sigterm_exit_code = code;
        shared.Violation("SIGTERM of node " + std::to_string(n) + " at the end: exit code " +
                         std::to_string(code));
      }
    }
  }
  receiver.Stop();
  for (auto& v : shared.Violations()) report.violations.push_back(v);
  if (!report.violations.empty()) {
    for (int n = 0; n < nodes; ++n) {
      std::string tail = servers[static_cast<size_t>(n)]->StderrText();
      if (tail.size() > 4000) tail = tail.substr(tail.size() - 4000);
      report.violations.push_back("node " + std::to_string(n) + " stderr (tail):\n" + tail);
    }
  }
  report.seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  return report;
}

}  // namespace papr::integration::crash_loop

#ifndef PAPR_CRASH_LOOP_NO_TESTS
namespace papr::integration {
namespace {

// Runs the crash loop and checks its report: no violation, every kill survived, every batch
// checked and every webhook delivered.
void ExpectCrashLoopPasses(const crash_loop::CrashLoopOptions& options) {
  crash_loop::CrashLoopReport report = crash_loop::RunCrashLoop(options);
  std::printf("%s", report.Figures().c_str());
  std::fflush(stdout);
  size_t shown = 0;
  for (const auto& v : report.violations) {
    if (++shown > 40) {
      ADD_FAILURE() << "... and " << report.violations.size() - 40 << " more violations";
      break;
    }
    ADD_FAILURE() << v;
  }
  EXPECT_EQ(report.kills, options.kills);
  EXPECT_EQ(report.restarts_ok, options.kills);
  EXPECT_GE(report.big_batches, 1);
  EXPECT_GT(report.batches_accepted, 20);
  EXPECT_EQ(report.batches_checked, report.batches_accepted);
  EXPECT_EQ(report.webhooks_delivered, report.webhooks_expected);
  EXPECT_EQ(report.sigterm_exit_code, 0);
}

TEST(ReliabilityCrashLoopIntegrationTest,
     TwentyKillsDuringBigAndSmallBatchesLoseNothingAndDeliverEveryWebhook) {
#if !PAPR_WITH_ENGINE
  GTEST_SKIP() << "the crash loop needs the cloud edition (PAPR_WITH_ENGINE=0 in this build)";
#endif
  crash_loop::CrashLoopOptions options;
  options.kills = 20;
  ExpectCrashLoopPasses(options);
}

// The same over three cluster nodes sharing one PostgreSQL database: each kill takes a random
// node; its shards come back when it restarts (or go to the others after the lease TTL).
TEST(ReliabilityCrashLoopIntegrationTest, TwentyKillsAcrossThreeClusterNodesLoseNothing) {
#if !PAPR_WITH_ENGINE
  GTEST_SKIP() << "cluster mode needs the cloud edition (PAPR_WITH_ENGINE=0 in this build)";
#endif
  if (!InPostgresStage()) GTEST_SKIP() << "runs in the PostgreSQL stage (tools/test_postgres.sh)";
  crash_loop::CrashLoopOptions options;
  options.kills = 20;
  options.nodes = 3;
  options.big_batch_memories = 3000;
  ExpectCrashLoopPasses(options);
}

}  // namespace
}  // namespace papr::integration
#endif  // PAPR_CRASH_LOOP_NO_TESTS
