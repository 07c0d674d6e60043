// Observability of the real papr-server: the batch progress stream (Server-Sent Events on
// GET /v1/memory/batch/status/{id}/events), /metrics in Prometheus text format, and the
// structured JSON logs on stderr. See /work/shared/API.md ("Batches", "Operations").
//
// The SSE stream is read with a raw POSIX socket so the test sees when each event arrives
// (not only the whole body once the server closes the connection).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/integration/api_client.h"
#include "tests/integration/server_process.h"

namespace papr::integration {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kOtherKey = "it-observability-other-key-77";

#define SKIP_WITHOUT_ENGINE()                                                   \
  do {                                                                          \
    if (!PAPR_WITH_ENGINE) GTEST_SKIP() << "cloud edition needs the engine build"; \
  } while (0)

std::string Batch(int n, const std::string& extra_fields = "") {
  std::string body;
  body.reserve(static_cast<size_t>(n) * 64);
  body += "{\"memories\":[";
  for (int i = 0; i < n; ++i) {
    body += std::string(i ? "," : "") + "{\"content\":\"observability memory " +
            std::to_string(i) + " about rivers and gardens\"}";
  }
  body += "]";
  if (!extra_fields.empty()) body += "," + extra_fields;
  return body + "}";
}

// POST /v1/memory/batch expecting 202; returns the batch id ("" after a failure).
std::string Submit(const ApiClient& api, const std::string& body) {
  Reply r = api.Call("POST", "/v1/memory/batch", body, {}, 60000);
  EXPECT_EQ(r.status, 202) << r.Describe();
  if (r.status != 202) return "";
  return Str(r.Json()["batch_id"]);
}

ServerOptions CloudOptions(std::string extra_yaml = "") {
  ServerOptions o;
  o.config_file = ConfigPath("cloud.yaml");
  o.extra_yaml = std::move(extra_yaml);
  return o;
}

// ---------------------------------------------------------------------------------------------
// A raw Server-Sent Events client.

struct SseEvent {
  std::string event;
  std::string data;
  Clock::time_point at;  // when its terminating blank line arrived
};

struct SseStream {
  int status = 0;
  std::map<std::string, std::string> headers;  // lowercase names
  std::vector<SseEvent> events;
  std::string body;       // raw bytes after the headers
  bool closed = false;    // the server closed the connection
  bool timed_out = false;
  std::string error;
  Clock::time_point opened;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  std::string Describe() const {
    std::ostringstream s;
    s << "HTTP " << status << ", " << events.size() << " events, closed=" << closed
      << ", timed_out=" << timed_out << ", error='" << error << "'";
    for (const auto& e : events) s << "\n  " << e.event << ": " << e.data.substr(0, 300);
    if (events.empty()) s << "\nbody: " << body.substr(0, 2000);
    return s.str();
  }
};

// Parses complete events (blocks ending in a blank line) from `buffer` starting at `*pos`.
void ParseEvents(const std::string& buffer, size_t* pos, std::vector<SseEvent>* out) {
  while (true) {
    size_t end = buffer.find("\n\n", *pos);
    if (end == std::string::npos) return;
    std::string block = buffer.substr(*pos, end - *pos);
    *pos = end + 2;
    SseEvent e;
    e.at = Clock::now();
    bool has_data = false;
    std::istringstream lines(block);
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || line[0] == ':') continue;
      size_t colon = line.find(':');
      std::string field = line.substr(0, colon);
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.erase(0, 1);
      if (field == "event") e.event = value;
      if (field == "data") {
        if (has_data) e.data += "\n";
        e.data += value;
        has_data = true;
      }
    }
    if (e.event.empty()) e.event = "message";
    out->push_back(std::move(e));
  }
}

// GET `path` with X-API-Key and reads the answer until the server closes the connection or
// the timeout passes. Events are parsed as they arrive; `on_event` sees each one at once and
// returns false to hang up (the client closes the connection).
SseStream ReadSse(int port, const std::string& path, const std::string& api_key, int timeout_ms,
                  const std::function<bool(const SseEvent&)>& on_event = nullptr) {
  SseStream s;
  s.opened = Clock::now();
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    s.error = std::string("socket: ") + std::strerror(errno);
    return s;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    s.error = std::string("connect: ") + std::strerror(errno);
    close(fd);
    return s;
  }
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                        "\r\nAccept: text/event-stream\r\nConnection: close\r\n";
  if (!api_key.empty()) request += "X-API-Key: " + api_key + "\r\n";
  request += "\r\n";
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      s.error = std::string("send: ") + std::strerror(errno);
      close(fd);
      return s;
    }
    sent += static_cast<size_t>(n);
  }
  auto deadline = s.opened + std::chrono::milliseconds(timeout_ms);
  std::string head;
  bool in_body = false;
  size_t parsed = 0;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      s.timed_out = true;
      break;
    }
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 100)));
    if (r < 0 && errno != EINTR) {
      s.error = std::string("poll: ") + std::strerror(errno);
      break;
    }
    if (r <= 0) continue;
    char buf[16384];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      s.error = std::string("recv: ") + std::strerror(errno);
      break;
    }
    if (n == 0) {
      s.closed = true;
      break;
    }
    if (!in_body) {
      head.append(buf, static_cast<size_t>(n));
      size_t end = head.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      s.body = head.substr(end + 4);
      head.resize(end);
      in_body = true;
      std::istringstream lines(head);
      std::string line;
      std::getline(lines, line);
      if (line.rfind("HTTP/1.", 0) == 0 && line.size() >= 12) s.status = std::atoi(line.c_str() + 9);
      while (std::getline(lines, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        s.headers[name] = value;
      }
    } else {
      s.body.append(buf, static_cast<size_t>(n));
    }
    size_t before = s.events.size();
    ParseEvents(s.body, &parsed, &s.events);
    bool keep_reading = true;
    if (on_event) {
      for (size_t i = before; i < s.events.size() && keep_reading; ++i) {
        keep_reading = on_event(s.events[i]);
      }
    }
    if (!keep_reading) break;
  }
  close(fd);
  return s;
}

std::string EventsPath(const std::string& batch_id) {
  return "/v1/memory/batch/status/" + batch_id + "/events";
}

struct ProgressCheck {
  int progress = 0;
  int done = 0;
  bool saw_running = false;  // a progress event before the batch ended
};

// Common checks of a finished stream: 200, text/event-stream, closed by the server, events
// `progress`* then exactly one `done` last, each `data` a status object of `batch_id`,
// request_counts.succeeded never decreasing, the last progress equal to done, whose status
// is `final_state` (for "completed": every memory succeeded).
ProgressCheck CheckStream(const SseStream& s, const std::string& batch_id, int64_t total,
                          const std::string& final_state = "completed") {
  ProgressCheck c;
  EXPECT_EQ(s.status, 200) << s.Describe();
  EXPECT_EQ(s.Header("content-type").rfind("text/event-stream", 0), 0u)
      << "content-type '" << s.Header("content-type") << "'";
  EXPECT_TRUE(s.closed) << "the server did not close the stream: " << s.Describe();
  EXPECT_EQ(s.Header("content-length"), "") << "a stream has no Content-Length";
  // Byte-exact framing: `event: NAME\ndata: JSON\n\n` per event, nothing else.
  std::string framed;
  for (const auto& e : s.events) framed += "event: " + e.event + "\ndata: " + e.data + "\n\n";
  EXPECT_EQ(s.body, framed) << "stream body is not exactly a sequence of event/data blocks";
  if (s.events.empty()) {
    ADD_FAILURE() << "no events: " << s.Describe();
    return c;
  }
  int64_t last_succeeded = -1;
  std::string last_progress;
  for (size_t i = 0; i < s.events.size(); ++i) {
    const SseEvent& e = s.events[i];
    const bool is_last = i + 1 == s.events.size();
    if (e.event == "done") {
      ++c.done;
      EXPECT_TRUE(is_last) << "done is not the last event: " << s.Describe();
    } else {
      EXPECT_EQ(e.event, "progress") << s.Describe();
      ++c.progress;
    }
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(e.data).get(doc) != simdjson::SUCCESS) {
      ADD_FAILURE() << "event " << i << " data is not JSON: " << e.data;
      continue;
    }
    try {
      EXPECT_EQ(Str(doc["batch_id"]), batch_id);
      EXPECT_EQ(Int(doc["request_counts"]["total"]), total) << e.data;
      int64_t succeeded = Int(doc["request_counts"]["succeeded"]);
      std::string state = Str(doc["status"]);
      if (e.event == "progress") {
        EXPECT_GE(succeeded, last_succeeded) << "succeeded went down at event " << i << ": "
                                             << s.Describe();
        last_succeeded = succeeded;
        last_progress = e.data;
        if (state == "queued" || state == "processing") c.saw_running = true;
      } else {
        EXPECT_EQ(e.data, last_progress) << "done data differs from the last progress event";
        EXPECT_EQ(state, final_state) << e.data;
        EXPECT_EQ(Int(doc["request_counts"]["processing"]), 0) << e.data;
        if (final_state == "completed") {
          EXPECT_EQ(succeeded, total) << e.data;
          EXPECT_EQ(Int(doc["request_counts"]["failed"]), 0) << e.data;
          EXPECT_EQ(Int(doc["total_successful"]), total) << e.data;
        }
      }
    } catch (const simdjson::simdjson_error& err) {
      ADD_FAILURE() << "event " << i << ": " << err.what() << ": " << e.data;
    }
  }
  EXPECT_EQ(c.done, 1) << s.Describe();
  return c;
}

// ---------------------------------------------------------------------------------------------
// SSE.

TEST(ObservabilitySseIntegrationTest, CloudStreamFollowsLargeBatchToDone) {
  SKIP_WITHOUT_ENGINE();
  constexpr int kTotal = 3000;
  ServerProcess server(CloudOptions());
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  // Two memories in flight: the batch runs for a while (~1 s here) so the stream has many
  // changes to coalesce.
  std::string id = Submit(api, Batch(kTotal, "\"max_concurrency\":2"));
  ASSERT_FALSE(id.empty());

  // While the stream runs, a plain status request sees the batch (the stream does not block
  // the server); recorded from the event callback.
  int status_checks = 0;
  SseStream s = ReadSse(server.port(), EventsPath(id), kTestApiKey, 60000, [&](const SseEvent& e) {
    if (e.event == "progress" && status_checks < 2) {
      ++status_checks;
      Reply st = api.Get("/v1/memory/batch/status/" + id);
      EXPECT_EQ(st.status, 200) << st.Describe();
    }
    return true;
  });
  ProgressCheck c = CheckStream(s, id, kTotal);
  EXPECT_GE(c.progress, 2) << s.Describe();
  EXPECT_TRUE(c.saw_running) << "no progress event while the batch ran: " << s.Describe();
  ASSERT_GE(s.events.size(), 2u);
  // Events arrived while the batch ran, not all at once when it ended.
  auto spread = s.events.back().at - s.events.front().at;
  EXPECT_GE(spread, std::chrono::milliseconds(50)) << s.Describe();
  // Coalesced to at most ~10 a second.
  double seconds = std::chrono::duration<double>(s.events.back().at - s.opened).count();
  EXPECT_LE(c.progress, 11.0 * seconds + 2.0)
      << c.progress << " progress events in " << seconds << " s: " << s.Describe();
  // ... also in every 1-second window.
  for (size_t i = 0; i < s.events.size(); ++i) {
    size_t in_window = 0;
    for (size_t j = i; j < s.events.size(); ++j) {
      if (s.events[j].event == "progress" &&
          s.events[j].at - s.events[i].at < std::chrono::seconds(1)) {
        ++in_window;
      }
    }
    EXPECT_LE(in_window, 13u) << "more than ~10 progress events within 1 s: " << s.Describe();
  }

  Reply st = api.Get("/v1/memory/batch/status/" + id);
  ASSERT_EQ(st.status, 200) << st.Describe();
  EXPECT_EQ(Str(st.Json()["status"]), "completed");
  EXPECT_EQ(Int(st.Json()["request_counts"]["succeeded"]), kTotal);
}

TEST(ObservabilitySseIntegrationTest, FinishedBatchGetsOneProgressThenDone) {
  SKIP_WITHOUT_ENGINE();
  ServerProcess server(CloudOptions());
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  Reply done = api.Call("POST", "/v1/memory/batch?wait=30", Batch(20), {}, 40000);
  ASSERT_EQ(done.status, 200) << done.Describe();
  std::string id = Str(done.Json()["batch_id"]);

  for (int round = 0; round < 2; ++round) {  // the stream is repeatable
    SseStream s = ReadSse(server.port(), EventsPath(id), kTestApiKey, 10000);
    ProgressCheck c = CheckStream(s, id, 20);
    ASSERT_EQ(s.events.size(), 2u) << s.Describe();
    EXPECT_EQ(s.events[0].event, "progress");
    EXPECT_EQ(s.events[1].event, "done");
    EXPECT_EQ(c.progress, 1);
  }
  // Also through the project's HTTP client (reads until close; no Content-Length).
  Reply whole = api.Call("GET", EventsPath(id), "", {}, 10000);
  ASSERT_EQ(whole.status, 200) << whole.Describe();
  EXPECT_EQ(whole.Header("content-type").rfind("text/event-stream", 0), 0u);
  EXPECT_EQ(whole.body.rfind("event: progress\ndata: {", 0), 0u) << whole.body;
  EXPECT_NE(whole.body.find("\n\nevent: done\ndata: {"), std::string::npos) << whole.body;
  EXPECT_EQ(whole.body.substr(whole.body.size() - 3), "}\n\n") << whole.body;
}

TEST(ObservabilitySseIntegrationTest, UnknownAndForeignBatchesAre404AndKeyIsRequired) {
  SKIP_WITHOUT_ENGINE();
  ServerProcess server(CloudOptions(std::string("auth: {api_keys: [{key: ") + kOtherKey +
                                    ", user_id: other}]}"));
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  ApiClient other(server.port(), kOtherKey);
  Reply mine = api.Call("POST", "/v1/memory/batch?wait=30", Batch(5), {}, 40000);
  ASSERT_EQ(mine.status, 200) << mine.Describe();
  std::string id = Str(mine.Json()["batch_id"]);

  EXPECT_TRUE(IsErrorEnvelope(api.Get(EventsPath("00000000-0000-4000-8000-000000000000")), 404));
  EXPECT_TRUE(IsErrorEnvelope(api.Get(EventsPath("no-such-batch")), 404));
  Reply foreign = other.Get(EventsPath(id));
  EXPECT_TRUE(IsErrorEnvelope(foreign, 404));
  EXPECT_EQ(foreign.body.find("event:"), std::string::npos) << foreign.body;
  EXPECT_TRUE(IsErrorEnvelope(ApiClient(server.port(), "").Get(EventsPath(id)), 401));
  EXPECT_TRUE(IsErrorEnvelope(ApiClient(server.port(), "wrong").Get(EventsPath(id)), 401));
  EXPECT_TRUE(IsErrorEnvelope(api.Post(EventsPath(id), "{}"), 405));
  // Bearer auth works like X-API-Key.
  ApiClient bearer(server.port(), kTestApiKey);
  bearer.set_bearer(true);
  Reply ok = bearer.Call("GET", EventsPath(id), "", {}, 10000);
  EXPECT_EQ(ok.status, 200) << ok.Describe();
  EXPECT_NE(ok.body.find("event: done"), std::string::npos) << ok.body;
}

TEST(ObservabilitySseIntegrationTest, CancelledBatchStreamEndsWithDone) {
  SKIP_WITHOUT_ENGINE();
  constexpr int kTotal = 3000;
  ServerProcess server(CloudOptions());
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  std::string id = Submit(api, Batch(kTotal, "\"max_concurrency\":1"));
  ASSERT_FALSE(id.empty());
  bool cancelled = false;
  SseStream s = ReadSse(server.port(), EventsPath(id), kTestApiKey, 30000, [&](const SseEvent& e) {
    if (!cancelled && e.event == "progress") {
      cancelled = true;
      Reply r = api.Post("/v1/memory/batch/" + id + "/cancel", "");
      EXPECT_EQ(r.status, 200) << r.Describe();
    }
    return true;
  });
  ASSERT_TRUE(cancelled) << s.Describe();
  CheckStream(s, id, kTotal, "cancelled");
  ASSERT_FALSE(s.events.empty());
  simdjson::dom::parser parser;
  auto done = parser.parse(s.events.back().data);
  int64_t succeeded = Int(done["request_counts"]["succeeded"]);
  int64_t canceled = Int(done["request_counts"]["canceled"]);
  int64_t failed = Int(done["request_counts"]["failed"]);
  EXPECT_GT(canceled, 0) << s.events.back().data;
  EXPECT_EQ(succeeded + canceled + failed, kTotal) << s.events.back().data;
}

TEST(ObservabilitySseIntegrationTest, ClientHangUpAndServerShutdownEndStreams) {
  SKIP_WITHOUT_ENGINE();
  constexpr int kTotal = 1000;
  ServerProcess server(CloudOptions());
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  std::string id = Submit(api, Batch(kTotal, "\"max_concurrency\":1"));
  ASSERT_FALSE(id.empty());

  // A client that hangs up after the first event does not disturb the server.
  SseStream first = ReadSse(server.port(), EventsPath(id), kTestApiKey, 10000,
                            [](const SseEvent&) { return false; });
  ASSERT_EQ(first.events.size(), 1u) << first.Describe();
  EXPECT_EQ(first.events[0].event, "progress");
  EXPECT_EQ(ApiClient(server.port(), "").Get("/healthz").status, 200);
  EXPECT_EQ(api.Get("/v1/memory/batch/status/" + id).status, 200);

  // SIGTERM while a stream is open: the server ends the stream and exits 0 promptly.
  std::atomic<bool> got_event{false};
  SseStream second;
  const int port = server.port();
  std::thread reader([&] {
    second = ReadSse(port, EventsPath(id), kTestApiKey, 20000, [&](const SseEvent&) {
      got_event = true;
      return true;
    });
  });
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!got_event && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  bool batch_running = Str(api.Get("/v1/memory/batch/status/" + id).Json()["status"]) == "processing";
  auto stop_started = Clock::now();
  int exit_code = server.Terminate(15000);
  reader.join();
  EXPECT_TRUE(got_event.load()) << second.Describe();
  EXPECT_EQ(exit_code, 0) << server.StderrText();
  EXPECT_LT(Clock::now() - stop_started, std::chrono::seconds(10));
  EXPECT_FALSE(second.timed_out) << "stream still open after shutdown: " << second.Describe();
  EXPECT_TRUE(second.closed) << second.Describe();
  if (!batch_running) return;  // finished before the SIGTERM: nothing to resume

  // After a restart the durable batch resumes, and a new stream follows it to done.
  ASSERT_TRUE(server.Start());
  SseStream resumed = ReadSse(server.port(), EventsPath(id), kTestApiKey, 40000);
  CheckStream(resumed, id, kTotal);
}

TEST(ObservabilitySseIntegrationTest, OssStreamFollowsBatchToDone) {
  ServerProcess server;  // config/opensource.yaml
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  std::string id = Submit(api, Batch(50));
  ASSERT_FALSE(id.empty());
  SseStream s = ReadSse(server.port(), EventsPath(id), kTestApiKey, 30000);
  ProgressCheck c = CheckStream(s, id, 50);
  EXPECT_GE(c.progress, 1) << s.Describe();
  double seconds = std::chrono::duration<double>(s.events.empty() ? Clock::duration{}
                                                                   : s.events.back().at - s.opened)
                       .count();
  EXPECT_LE(c.progress, 11.0 * seconds + 2.0) << s.Describe();

  // Finished: one progress, then done.
  SseStream again = ReadSse(server.port(), EventsPath(id), kTestApiKey, 10000);
  CheckStream(again, id, 50);
  ASSERT_EQ(again.events.size(), 2u) << again.Describe();
  EXPECT_EQ(again.events[0].event, "progress");
  EXPECT_TRUE(IsErrorEnvelope(api.Get(EventsPath("no-such-batch")), 404));
}

// ---------------------------------------------------------------------------------------------
// /metrics.

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Exposition {
  std::vector<Sample> samples;
  std::vector<std::string> errors;

  // The value of the one sample `name` whose labels include `labels`; nullopt if none.
  std::optional<double> Value(const std::string& name,
                              const std::map<std::string, std::string>& labels = {}) const {
    std::optional<double> found;
    for (const auto& s : samples) {
      if (s.name != name) continue;
      bool match = std::all_of(labels.begin(), labels.end(), [&](const auto& kv) {
        auto it = s.labels.find(kv.first);
        return it != s.labels.end() && it->second == kv.second;
      });
      if (match) found = found.value_or(0) + s.value;
    }
    return found;
  }
};

bool IsNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
bool IsNameChar(char c) { return IsNameStart(c) || std::isdigit(static_cast<unsigned char>(c)); }

bool ParseValue(const std::string& text, double* out) {
  if (text == "+Inf" || text == "Inf") {
    *out = HUGE_VAL;
    return true;
  }
  if (text == "-Inf") {
    *out = -HUGE_VAL;
    return true;
  }
  if (text == "NaN") {
    *out = 0;
    return true;
  }
  if (text.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

// Parses Prometheus text format 0.0.4 strictly enough to catch malformed output: every
// sample `name{k="v",...} value [timestamp]`, every family's # HELP and # TYPE before its
// samples, one TYPE per family, a family's samples not split by another family.
Exposition ParsePrometheus(const std::string& text) {
  Exposition x;
  std::map<std::string, std::string> types;  // family -> type
  std::set<std::string> helped;
  std::set<std::string> finished_families;
  std::string current_family;
  auto family_of = [&](const std::string& name) -> std::string {
    if (types.count(name)) return name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string sfx = suffix;
      if (name.size() > sfx.size() && name.compare(name.size() - sfx.size(), sfx.size(), sfx) == 0) {
        std::string base = name.substr(0, name.size() - sfx.size());
        auto it = types.find(base);
        if (it != types.end() && (it->second == "histogram" || it->second == "summary")) return base;
      }
    }
    return "";
  };
  if (text.empty() || text.back() != '\n') x.errors.push_back("text does not end with a newline");
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::string where = "line " + std::to_string(line_no) + " '" + line + "': ";
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream words(line.substr(1));
      std::string keyword, name;
      words >> keyword >> name;
      if (keyword == "HELP") {
        if (helped.count(name)) x.errors.push_back(where + "second HELP for " + name);
        helped.insert(name);
      } else if (keyword == "TYPE") {
        std::string type;
        words >> type;
        static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                     "untyped"};
        if (!kTypes.count(type)) x.errors.push_back(where + "unknown type");
        if (types.count(name)) x.errors.push_back(where + "second TYPE for " + name);
        types[name] = type;
      }
      continue;
    }
    Sample s;
    size_t i = 0;
    if (!IsNameStart(line[0])) {
      x.errors.push_back(where + "bad metric name");
      continue;
    }
    while (i < line.size() && IsNameChar(line[i])) ++i;
    s.name = line.substr(0, i);
    bool ok = true;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (ok && i < line.size() && line[i] != '}') {
        size_t k = i;
        while (i < line.size() && IsNameChar(line[i])) ++i;
        std::string key = line.substr(k, i - k);
        if (key.empty() || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') {
          ok = false;
          break;
        }
        i += 2;
        std::string value;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\' && i + 1 < line.size()) ++i;
          value += line[i++];
        }
        if (i >= line.size()) {
          ok = false;
          break;
        }
        ++i;  // closing quote
        if (s.labels.count(key)) ok = false;
        s.labels[key] = value;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (!ok || i >= line.size() || line[i] != '}') {
        x.errors.push_back(where + "bad label set");
        continue;
      }
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') {
      x.errors.push_back(where + "no space before the value");
      continue;
    }
    std::istringstream rest(line.substr(i + 1));
    std::string value_text, timestamp, extra;
    rest >> value_text >> timestamp >> extra;
    if (!ParseValue(value_text, &s.value)) x.errors.push_back(where + "value is not a number");
    if (!timestamp.empty()) {
      double ts = 0;
      if (!ParseValue(timestamp, &ts)) x.errors.push_back(where + "bad timestamp");
    }
    if (!extra.empty()) x.errors.push_back(where + "trailing text");
    std::string family = family_of(s.name);
    if (family.empty()) {
      x.errors.push_back(where + "sample before its family's # TYPE line");
    } else {
      if (!helped.count(family)) x.errors.push_back(where + "no # HELP before the sample");
      if (family != current_family) {
        if (finished_families.count(family)) {
          x.errors.push_back(where + "samples of " + family + " are not grouped together");
        }
        if (!current_family.empty()) finished_families.insert(current_family);
        current_family = family;
      }
      if (types[family] == "histogram" && s.name == family + "_bucket" && !s.labels.count("le")) {
        x.errors.push_back(where + "bucket without le");
      }
    }
    x.samples.push_back(std::move(s));
  }
  return x;
}

Exposition Scrape(int port) {
  Reply r = ApiClient(port, "").Get("/metrics");
  EXPECT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(r.Header("content-type").rfind("text/plain", 0), 0u)
      << "content-type " << r.Header("content-type");
  Exposition x = ParsePrometheus(r.body);
  for (const auto& e : x.errors) ADD_FAILURE() << "/metrics: " << e;
  return x;
}

TEST(ObservabilityMetricsIntegrationTest, CloudMetricsAreWellFormedAndMoveWithBatches) {
  SKIP_WITHOUT_ENGINE();
  ServerProcess server(CloudOptions());
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  Reply first = api.Call("POST", "/v1/memory/batch?wait=30", Batch(500), {}, 40000);
  ASSERT_EQ(first.status, 200) << first.Describe();

  Exposition x = Scrape(server.port());
  auto attempts = x.Value("papr_engine_activity_attempts_total");
  ASSERT_TRUE(attempts.has_value());
  EXPECT_GE(*attempts, 500);
  auto closed = x.Value("papr_engine_workflows_closed_total", {{"status", "completed"}});
  ASSERT_TRUE(closed.has_value());
  EXPECT_GE(*closed, 1);
  auto commits = x.Value("papr_engine_commit_seconds_count");
  ASSERT_TRUE(commits.has_value());
  EXPECT_GT(*commits, 0);
  auto posts = x.Value("papr_http_requests_total",
                       {{"method", "POST"}, {"route", "/v1/memory/batch"}, {"code", "200"}});
  ASSERT_TRUE(posts.has_value());
  EXPECT_EQ(*posts, 1);
  EXPECT_EQ(x.Value("papr_batch_size_memories_count").value_or(-1), 1);
  EXPECT_EQ(x.Value("papr_batch_size_memories_sum").value_or(-1), 500);
  EXPECT_EQ(x.Value("papr_batch_size_memories_bucket", {{"le", "+Inf"}}).value_or(-1), 1);
  EXPECT_TRUE(x.Value("papr_engine_activity_seconds_count").has_value());

  // A second batch moves the counters by its size.
  constexpr int kSecond = 120;
  Reply second = api.Call("POST", "/v1/memory/batch?wait=30", Batch(kSecond), {}, 40000);
  ASSERT_EQ(second.status, 200) << second.Describe();
  Exposition y = Scrape(server.port());
  EXPECT_EQ(y.Value("papr_engine_activity_attempts_total").value_or(-1), *attempts + kSecond);
  EXPECT_EQ(y.Value("papr_engine_workflows_closed_total", {{"status", "completed"}}).value_or(-1),
            *closed + 1);
  EXPECT_GT(y.Value("papr_engine_commit_seconds_count").value_or(-1), *commits);
  EXPECT_EQ(y.Value("papr_http_requests_total",
                    {{"method", "POST"}, {"route", "/v1/memory/batch"}, {"code", "200"}})
                .value_or(-1),
            2);
  EXPECT_EQ(y.Value("papr_batch_size_memories_sum").value_or(-1), 500 + kSecond);
  // The first scrape is counted too.
  EXPECT_GE(y.Value("papr_http_requests_total", {{"route", "/metrics"}, {"code", "200"}}).value_or(-1),
            1);
}

TEST(ObservabilityMetricsIntegrationTest, OssMetricsAreWellFormed) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  ASSERT_EQ(api.Post("/v1/memory/batch?wait=10", Batch(7)).status, 200);
  ASSERT_EQ(api.Post("/v1/memory/batch", Batch(51)).status, 413);
  Exposition x = Scrape(server.port());
  EXPECT_EQ(x.Value("papr_batches_rejected_for_size_total").value_or(-1), 1);
  EXPECT_EQ(x.Value("papr_batch_size_memories_sum").value_or(-1), 7);
}

TEST(ObservabilityMetricsIntegrationTest, RouteLabelsDoNotCarryIds) {
  // Request paths with ids must map to a bounded set of route labels; otherwise every
  // unknown id adds a new time series.
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  const std::vector<std::string> ids = {"idprobe0001", "idprobe0002", "idprobe0003"};
  EXPECT_EQ(api.Get("/v1/memory/batch/" + ids[0]).status, 404);
  EXPECT_EQ(api.Get("/v1/memory/batch/" + ids[1] + "/results").status, 404);
  EXPECT_EQ(api.Get("/v1/memory/batch/status/" + ids[2]).status, 404);
  EXPECT_EQ(api.Get("/v1/memory/" + ids[0]).status, 404);
  EXPECT_EQ(api.Get("/v1/memory/batch/x/" + ids[2]).status, 404);
  Exposition x = Scrape(server.port());
  std::set<std::string> offending;
  for (const Sample& s : x.samples) {
    for (const auto& [key, value] : s.labels) {
      for (const auto& id : ids) {
        if (value.find(id) != std::string::npos) offending.insert(key + "=\"" + value + "\"");
      }
    }
  }
  std::string list;
  for (const auto& o : offending) list += "\n  " + o;
  EXPECT_TRUE(offending.empty()) << "labels carrying request ids:" << list;
}

// ---------------------------------------------------------------------------------------------
// Structured logs.

struct LogLine {
  std::string raw;
  std::map<std::string, std::string> fields;  // string-valued fields
};

// Every non-empty stderr line must be one JSON object with string ts / level / msg.
std::vector<LogLine> ParseLog(const std::string& text) {
  std::vector<LogLine> out;
  std::istringstream in(text);
  std::string line;
  simdjson::dom::parser parser;
  static const std::set<std::string> kLevels = {"debug", "info", "warn", "error"};
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    simdjson::dom::object obj;
    if (parser.parse(line).get(obj) != simdjson::SUCCESS) {
      ADD_FAILURE() << "stderr line is not a JSON object: " << line;
      continue;
    }
    LogLine l;
    l.raw = line;
    for (auto [key, value] : obj) {
      std::string_view sv;
      if (value.get(sv) == simdjson::SUCCESS) l.fields[std::string(key)] = std::string(sv);
    }
    for (const char* required : {"ts", "level", "msg"}) {
      EXPECT_TRUE(l.fields.count(required)) << "no string \"" << required << "\" in " << line;
    }
    EXPECT_TRUE(kLevels.count(l.fields["level"])) << line;
    EXPECT_FALSE(l.fields["msg"].empty()) << line;
    const std::string& ts = l.fields["ts"];
    EXPECT_TRUE(ts.size() >= 20 && ts[4] == '-' && ts[10] == 'T' && ts.back() == 'Z')
        << "ts is not RFC 3339 UTC: " << line;
    out.push_back(std::move(l));
  }
  return out;
}

bool HasLine(const std::vector<LogLine>& lines, const std::string& msg, const std::string& field,
             const std::string& value) {
  return std::any_of(lines.begin(), lines.end(), [&](const LogLine& l) {
    auto m = l.fields.find("msg");
    auto f = l.fields.find(field);
    return m != l.fields.end() && m->second == msg && f != l.fields.end() && f->second == value;
  });
}

TEST(ObservabilityLogsIntegrationTest, JsonLinesWithIdsAndNoSecrets) {
  SKIP_WITHOUT_ENGINE();
  // One webhook attempt to a closed loopback port, so the secret travels through the engine.
  ServerProcess server(CloudOptions(
      std::string("webhooks: {allow_private_targets: true, retry_schedule_seconds: [0]}\n"
                  "auth: {api_keys: [{key: ") +
      kOtherKey + ", user_id: other}]}"));
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  const std::string secret = "whsec_b2JzZXJ2YWJpbGl0eS1zZWNyZXQtOTk4ODc3NjY1NQ==";
  Reply done = api.Call(
      "POST", "/v1/memory/batch?wait=30",
      Batch(25, "\"webhook_url\":\"http://127.0.0.1:1/hook\",\"webhook_secret\":" +
                    JsonQuote(secret)),
      {}, 40000);
  ASSERT_EQ(done.status, 200) << done.Describe();
  std::string id = Str(done.Json()["batch_id"]);
  // Bearer and a rejected key also must not be logged.
  ApiClient bearer(server.port(), kOtherKey);
  bearer.set_bearer(true);
  EXPECT_EQ(bearer.Get("/v1/usage").status, 200);
  const std::string wrong_key = "it-wrong-key-that-must-not-be-logged";
  EXPECT_EQ(ApiClient(server.port(), wrong_key).Get("/v1/usage").status, 401);

  // The workflow closes after its webhook attempt; wait for its line (bounded).
  std::vector<LogLine> lines;
  auto deadline = Clock::now() + std::chrono::seconds(15);
  while (true) {
    lines = ParseLog(server.StderrText());
    if (HasLine(lines, "workflow closed", "workflow_id", id) || Clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(HasLine(lines, "batch accepted", "batch_id", id)) << server.StderrText();
  EXPECT_TRUE(HasLine(lines, "workflow closed", "workflow_id", id)) << server.StderrText();
  EXPECT_TRUE(HasLine(lines, "started", "edition", "cloud")) << server.StderrText();
  // The signed webhook was attempted (so the secret was used), and logged without it.
  EXPECT_TRUE(HasLine(lines, "webhook attempt", "batch_id", id)) << server.StderrText();

  ASSERT_EQ(server.Terminate(), 0);
  std::string all = server.StderrText();
  lines = ParseLog(all);  // including the shutdown lines
  EXPECT_TRUE(std::any_of(lines.begin(), lines.end(),
                          [](const LogLine& l) { return l.fields.at("msg") == "stopping"; }))
      << all;
  for (const std::string& needle :
       {std::string(kTestApiKey), std::string(kOtherKey), wrong_key, secret,
        secret.substr(std::string("whsec_").size())}) {
    EXPECT_EQ(all.find(needle), std::string::npos) << "stderr contains '" << needle << "':\n"
                                                   << all;
  }
}

TEST(ObservabilityLogsIntegrationTest, WarnLevelHidesInfoLines) {
  ServerOptions options =
      PAPR_WITH_ENGINE ? CloudOptions("logging: {level: warn}") : ServerOptions{};
  if (!PAPR_WITH_ENGINE) options.extra_yaml = "logging: {level: warn}";
  ServerProcess server(options);
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  Reply done = api.Call("POST", "/v1/memory/batch?wait=30", Batch(10), {}, 40000);
  ASSERT_EQ(done.status, 200) << done.Describe();
  EXPECT_EQ(api.Post("/v1/memory/batch", Batch(20000)).status, 413);
  ASSERT_EQ(server.Terminate(), 0);
  std::string all = server.StderrText();
  for (const LogLine& l : ParseLog(all)) {
    EXPECT_TRUE(l.fields.at("level") == "warn" || l.fields.at("level") == "error") << l.raw;
  }
  EXPECT_EQ(all.find("batch accepted"), std::string::npos) << all;
}

}  // namespace
}  // namespace papr::integration
