// Hostile input against the real papr-server (issue 12): request splitting through
// webhook_url, Transfer-Encoding smuggling, obsolete line folding, content types, blank
// Unicode content. Wire-level cases go through raw sockets (tests/integration/raw_socket.h).

#include <chrono>
#include <map>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "net/http_client.h"
#include "tests/integration/api_client.h"
#include "tests/integration/raw_socket.h"
#include "tests/integration/server_process.h"
#include "tests/integration/test_endpoint.h"

namespace papr::integration {
namespace {

using namespace std::chrono_literals;

//! Every request a TestEndpoint got: method, target and Host header.
class RecordingEndpoint {
 public:
  RecordingEndpoint()
      : endpoint_([this](const net::HttpRequest& req) {
          std::lock_guard lock(mu_);
          seen_.push_back(req.method + " " + req.target + " host=" +
                          std::string(req.Header("host")));
          return net::HttpResponse::Json(200, "{}");
        }) {}
  std::vector<std::string> Seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }
  std::string Url(const std::string& path) const { return endpoint_.Url(path); }

 private:
  std::mutex mu_;
  std::vector<std::string> seen_;
  TestEndpoint endpoint_;
};

ServerOptions OssWithPrivateWebhooks() {
  ServerOptions o;
  o.config_file = ConfigPath("opensource.yaml");
  o.extra_yaml = "webhooks:\n  allow_private_targets: true\n";
  return o;
}

std::string OneMemoryBatch(const std::string& webhook_url) {
  return "{\"memories\":[{\"content\":\"hostile input test memory\"}],\"webhook_url\":" +
         JsonQuote(webhook_url) + "}";
}

// The reproduction of issue 12: CRLF in webhook_url carried a second request (with the
// attacker's Host) to the receiver. Now the submit is refused naming the field, and the
// receiver sees nothing; a clean URL to the same receiver is still delivered.
TEST(HostileInputTest, CrlfInWebhookUrlIsRefusedAndNoSmuggledRequestArrives) {
  RecordingEndpoint receiver;
  ServerProcess server(OssWithPrivateWebhooks());
  ASSERT_TRUE(server.Start());
  ApiClient api(server.port(), kTestApiKey);
  const std::string smuggling =
      receiver.Url("/b") +
      " HTTP/1.1\r\nHost: internal\r\n\r\nDELETE /smuggled HTTP/1.1\r\nHost: internal\r\n\r\n";
  for (const std::string& url :
       {smuggling, receiver.Url("/b\r\nX-Injected: 1"), receiver.Url("/b c"),
        receiver.Url("/b\n"), receiver.Url("/b%0"), receiver.Url("/\xc3\xa9")}) {
    Reply r = api.Post("/v1/memory/batch", OneMemoryBatch(url));
    ASSERT_TRUE(IsErrorEnvelope(r, 400)) << url;
    EXPECT_EQ(Str(r.Json()["details"]["field"]), "webhook_url") << r.body;
  }
  std::this_thread::sleep_for(1500ms);  // an accepted batch would have called by now
  EXPECT_TRUE(receiver.Seen().empty()) << receiver.Seen().front();

  Reply ok = api.Post("/v1/memory/batch", OneMemoryBatch(receiver.Url("/clean")));
  ASSERT_EQ(ok.status, 202) << ok.Describe();
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (receiver.Seen().empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(receiver.Seen().size(), 1u);
  EXPECT_EQ(receiver.Seen()[0].rfind("POST /clean host=127.0.0.1", 0), 0u) << receiver.Seen()[0];
}


//! A server for the wire tests: OSS edition, small deadlines.
class WireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.config_file = ConfigPath("opensource.yaml");
    o.extra_yaml = ExtraYaml();
    server_ = std::make_unique<ServerProcess>(o);
    ASSERT_TRUE(server_->Start());
  }
  void TearDown() override {
    if (HasFailure() && server_) std::printf("server stderr:\n%s\n", server_->StderrText().c_str());
  }
  virtual std::string ExtraYaml() const { return ""; }
  int port() const { return server_->port(); }

  std::unique_ptr<ServerProcess> server_;
};

// An authenticated request carried in the body of an unauthenticated one: if the server
// took the body for the next request, the victim's request would run on this connection.
std::string SmuggledUsageRequest() {
  return std::string("GET /v1/usage HTTP/1.1\r\nHost: x\r\nX-API-Key: ") + kTestApiKey +
         "\r\n\r\n";
}

// Transfer-Encoding other than one final `chunked`, or together with Content-Length: a 400,
// one answer only, and the connection closed (RFC 9112 sections 6.1 and 6.3).
TEST_F(WireTest, TransferEncodingSmugglingIsRefusedAndTheConnectionClosed) {
  const std::string inner = SmuggledUsageRequest();
  const std::string head = "POST /v1/memory/search HTTP/1.1\r\nHost: x\r\n";
  const std::string length = "Content-Length: " + std::to_string(inner.size()) + "\r\n";
  for (const std::string& fields :
       {std::string("Transfer-Encoding: xchunked\r\n"), std::string("Transfer-Encoding: identity\r\n"),
        std::string("Transfer-Encoding: chunked, identity\r\n"),
        std::string("Transfer-Encoding: gzip\r\n"),
        std::string("Transfer-Encoding: chunked, chunked\r\n"),
        std::string("Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n"),
        "Transfer-Encoding: xchunked\r\n" + length, length + "Transfer-Encoding: xchunked\r\n",
        std::string("Transfer-Encoding: identity\r\nContent-Length: 0\r\n")}) {
    SCOPED_TRACE(fields);
    bool closed = false;
    std::string raw = RawExchange(port(), head + fields + "\r\n" + inner, 5s, &closed);
    EXPECT_EQ(raw.rfind("HTTP/1.1 400", 0), 0u) << raw;
    EXPECT_EQ(CountResponses(raw), 1) << raw;
    EXPECT_TRUE(closed) << "the connection stayed open";
    EXPECT_EQ(raw.find("batches_attempted"), std::string::npos) << "smuggled request ran: " << raw;
  }
}

// Obsolete line folding (a field line starting with SP or HTAB) is a 400, not a joined value.
TEST_F(WireTest, ObsoleteLineFoldingIsRefused) {
  for (const std::string& folded :
       {std::string("X-API-Key: ") + kTestApiKey + "\r\n  continued\r\n",
        std::string("X-Other: a\r\n\tb\r\nX-API-Key: ") + kTestApiKey + "\r\n"}) {
    bool closed = false;
    std::string raw =
        RawExchange(port(), "GET /v1/usage HTTP/1.1\r\nHost: x\r\n" + folded + "\r\n", 5s, &closed);
    EXPECT_EQ(raw.rfind("HTTP/1.1 400", 0), 0u) << raw;
    EXPECT_EQ(CountResponses(raw), 1) << raw;
    EXPECT_TRUE(closed);
  }
}

// The framing that stays allowed: one chunked coding (any case), and plain Content-Length,
// pipelined on one connection.
TEST_F(WireTest, ChunkedAndContentLengthBodiesStillWork) {
  std::string body = R"({"query":"gardens"})";
  char size[16];
  std::snprintf(size, sizeof(size), "%zx", body.size());
  std::string auth = std::string("X-API-Key: ") + kTestApiKey + "\r\n";
  std::string req1 = "POST /v1/memory/search HTTP/1.1\r\nHost: x\r\n" + auth +
                     "Content-Type: application/json\r\nTransfer-Encoding: Chunked\r\n\r\n" +
                     size + "\r\n" + body + "\r\n0\r\n\r\n";
  std::string req2 = "POST /v1/memory/search HTTP/1.1\r\nHost: x\r\n" + auth +
                     "Content-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  std::string raw = RawExchange(port(), req1 + req2, 5s);
  EXPECT_EQ(CountResponses(raw), 2) << raw;
  EXPECT_EQ(raw.rfind("HTTP/1.1 200", 0), 0u) << raw;
  EXPECT_NE(raw.find("HTTP/1.1 200", 10), std::string::npos) << raw;
}

// POST with an exact Content-Type (ApiClient always sends application/json).
Reply PostTyped(int port, const std::string& path, const std::string& body,
                const std::string& content_type) {
  net::HttpClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + path;
  req.body = body;
  req.headers = {{"X-API-Key", kTestApiKey}};
  if (!content_type.empty()) req.headers.emplace_back("Content-Type", content_type);
  Reply reply;
  auto r = net::HttpCall(req);
  if (!r.ok()) {
    reply.transport_error = r.status().message();
    return reply;
  }
  reply.status = r->status;
  reply.body = r->body;
  reply.headers = r->headers;
  return reply;
}

// Issue 12: a 60 MB metadata memory was stored. Now every free-form field has a limit, and
// going over it is a 422 naming the field path and the limit.
TEST_F(WireTest, MetadataAndContextOverTheirLimitsAre422NamingFieldAndLimit) {
  ApiClient api(port(), kTestApiKey);
  struct Case {
    std::string extra, field, limit;
  };
  std::string deep = "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":1}}}}}}";
  std::string many_keys = "{";
  for (int i = 0; i < 200; ++i) many_keys += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  many_keys += "}";
  std::string context = "[";
  for (int i = 0; i < 60; ++i) context += std::string(i ? "," : "") + R"({"role":"u","content":"c"})";
  context += "]";
  for (const Case& c : std::vector<Case>{
           {"\"metadata\":{\"blob\":" + JsonQuote(std::string(60'000, 'x')) + "}", "metadata",
            "limits.max_metadata_bytes"},
           {"\"metadata\":" + many_keys, "metadata.k128", "limits.max_metadata_keys"},
           {"\"metadata\":" + deep, "metadata.a.b.c.d.e", "limits.max_metadata_depth"},
           {"\"metadata\":{\"s\":" + JsonQuote(std::string(5000, 'y')) + "}", "metadata.s",
            "limits.max_metadata_string_bytes"},
           {"\"context\":" + context, "context", "limits.max_context_items"},
           {"\"context\":[{\"role\":\"u\",\"content\":" + JsonQuote(std::string(9000, 'z')) + "}]",
            "context[0]", "limits.max_context_item_bytes"}}) {
    SCOPED_TRACE(c.limit);
    Reply r = api.Post("/v1/memory", "{\"content\":\"limits\"," + c.extra + "}");
    ASSERT_TRUE(IsErrorEnvelope(r, 422));
    EXPECT_EQ(Str(r.Json()["details"]["field"]), c.field) << r.body;
    EXPECT_EQ(Str(r.Json()["details"]["limit"]), c.limit) << r.body;
  }
}

// Issue 12: a memory could show two batch_index fields (metadata lifted over server fields).
TEST_F(WireTest, MetadataNeverShadowsServerFields) {
  ApiClient api(port(), kTestApiKey);
  Reply r = api.Post(
      "/v1/memory/batch?wait=30",
      R"({"memories":[{"content":"shadow test","metadata":{"batch_index":999,"batch_id":"fake",)"
      R"("id":"fake","createdAt":"fake","user_id":"fake","topics":["kept"]}}]})");
  ASSERT_EQ(r.status, 200) << r.Describe();
  std::string id = Str(r.Json()["successful"].at(0)["data"].at(0)["memoryId"]);
  Reply m = api.Get("/v1/memory/" + id);
  ASSERT_EQ(m.status, 200) << m.Describe();
  simdjson::dom::element memory = m.Json()["data"]["memories"].at(0);
  simdjson::dom::object object = memory.get_object();
  std::map<std::string, int> top_level;  // the memory object's keys (the DOM keeps duplicates)
  for (auto field : object) ++top_level[std::string(field.key)];
  for (const char* key : {"batch_index", "batch_id", "createdAt", "id", "user_id"}) {
    EXPECT_EQ(top_level[key], 1) << key << " in " << m.body;
  }
  EXPECT_EQ(Int(memory["batch_index"]), 0) << m.body;
  EXPECT_EQ(Str(memory["id"]), id);
  EXPECT_EQ(Str(memory["user_id"]), "default");
  EXPECT_EQ(Raw(memory["topics"]), "[\"kept\"]");
}

// Search answers are bounded: max_memories above limits.max_search_results is a 400.
TEST_F(WireTest, SearchPageSizeIsCapped) {
  ApiClient api(port(), kTestApiKey);
  Reply r = api.Post("/v1/memory/search?max_memories=1000", R"({"query":"gardens"})");
  ASSERT_TRUE(IsErrorEnvelope(r, 400));
  EXPECT_EQ(Str(r.Json()["details"]["field"]), "max_memories") << r.body;
  EXPECT_EQ(api.Post("/v1/memory/search?max_memories=100", R"({"query":"gardens"})").status, 200);
}

// Issue 12: content of only non-breaking (or other Unicode) spaces was stored.
TEST_F(WireTest, UnicodeWhitespaceContentIsEmpty) {
  ApiClient api(port(), kTestApiKey);
  for (const std::string& blank : {std::string("\xc2\xa0\xc2\xa0"), std::string("\xe3\x80\x80"),
                                   std::string("\xe2\x80\x83\xe2\x80\x8b")}) {
    Reply r = api.Post("/v1/memory", "{\"content\":" + JsonQuote(blank) + "}");
    ASSERT_TRUE(IsErrorEnvelope(r, 400));
    EXPECT_EQ(Str(r.Json()["details"]["field"]), "content");
  }
}

// Issue 12: a text/plain body was parsed as JSON. Now 415 naming the accepted type.
TEST_F(WireTest, JsonBodiesNeedTheJsonContentType) {
  const std::string body = R"({"content":"typed body"})";
  for (const std::string& type : {std::string("text/plain"),
                                  std::string("application/x-www-form-urlencoded"),
                                  std::string("application/json; charset=latin1"), std::string()}) {
    Reply r = PostTyped(port(), "/v1/memory", body, type);
    ASSERT_TRUE(IsErrorEnvelope(r, 415)) << type;
    EXPECT_EQ(Str(r.Json()["details"]["accepted"]), "application/json") << r.body;
  }
  EXPECT_EQ(PostTyped(port(), "/v1/memory", body, "application/json; charset=utf-8").status, 200);
  EXPECT_EQ(PostTyped(port(), "/v1/memory", body, "Application/JSON").status, 200);
}

class SlowClientTest : public WireTest {
 protected:
  std::string ExtraYaml() const override {
    return "server:\n  read_timeout_seconds: 2\n  idle_timeout_seconds: 30\n"
           "  max_connections: 24\n";
  }
};

// A keep-alive connection that has seen the server count it as its only open one (the
// harness's readiness probes are gone), so a test can count the cap exactly.
std::unique_ptr<RawConnection> SoleConnection(int port) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto c = std::make_unique<RawConnection>(port);
    if (c->connected() && c->Send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n") &&
        c->ReadUntilClose(100ms).find("\npapr_http_connections_open 1\n") != std::string::npos) {
      return c;
    }
    std::this_thread::sleep_for(20ms);
  }
  return nullptr;
}

// Slowloris: many connections trickling head or body bytes are closed once the request's
// read deadline passes (not at the idle timeout), connections beyond the cap get a 503 at
// once, and the server answers normally afterwards.
TEST_F(SlowClientTest, TricklingConnectionsAreCutAtTheReadDeadlineAndTheCapRefusesMore) {
  std::unique_ptr<RawConnection> idle = SoleConnection(port());
  ASSERT_NE(idle, nullptr) << "the server never counted one open connection";
  constexpr int kSlowHeads = 12, kSlowBodies = 11;  // with `idle`, the cap (24)
  std::vector<std::unique_ptr<RawConnection>> opened;
  for (int i = 0; i < kSlowHeads + kSlowBodies + 1; ++i) {  // and one connection more
    opened.push_back(std::make_unique<RawConnection>(port()));
    ASSERT_TRUE(opened.back()->connected());
    std::string start = i % 2 == 0 ? "GET /v1/usage HTTP/1.1\r\nX-Slow: "
                                    : "POST /v1/memory HTTP/1.1\r\nHost: x\r\n"
                                      "Content-Type: application/json\r\n"
                                      "Content-Length: 100000\r\n\r\n{\"content\":\"";
    ASSERT_TRUE(opened.back()->Send(start));
  }
  std::this_thread::sleep_for(300ms);
  // The cap is reached: exactly the last connection is refused at once.
  std::vector<std::unique_ptr<RawConnection>> slow;
  int refused = 0;
  for (size_t i = 0; i < opened.size(); ++i) {
    bool closed = false;
    std::string raw = opened[i]->ReadUntilClose(10ms, &closed);
    if (!closed) {
      slow.push_back(std::move(opened[i]));
      continue;
    }
    ++refused;
    EXPECT_EQ(i, opened.size() - 1) << "connection " << i << " of " << opened.size();
    EXPECT_EQ(raw.rfind("HTTP/1.1 503", 0), 0u) << raw;
    EXPECT_NE(raw.find("max_connections"), std::string::npos) << raw;
  }
  EXPECT_EQ(refused, 1);
  ASSERT_EQ(slow.size(), static_cast<size_t>(kSlowHeads + kSlowBodies));
  auto started = std::chrono::steady_clock::now();
  size_t open = slow.size();
  while (open > 0 && std::chrono::steady_clock::now() - started < 10s) {
    open = 0;
    for (auto& c : slow) {
      if (c->PeerClosed()) continue;
      ++open;
      c->Send("a");  // one byte per connection every 200 ms: never idle, never done
    }
    std::this_thread::sleep_for(200ms);
  }
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(open, 0u) << "slow connections still open after 10 s (read deadline 2 s)";
  EXPECT_LT(took, 5s);
  EXPECT_FALSE(idle->PeerClosed()) << "an idle keep-alive connection is cut at the idle timeout";
  ApiClient api(port(), kTestApiKey);
  Reply usage = api.Get("/v1/usage");
  EXPECT_EQ(usage.status, 200) << usage.Describe();
}

}  // namespace
}  // namespace papr::integration
