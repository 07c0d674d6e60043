#include "net/http_client.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "net/http_server.h"

extern char** environ;

namespace papr::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// ---------------------------------------------------------------------------------------------
// ParseUrl

TEST(HttpClientTest, ParseUrlDefaultsPortAndTarget) {
  auto u = ParseUrl("http://example.com");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, "80");
  EXPECT_EQ(u->target, "/");

  u = ParseUrl("HTTPS://example.com/hooks/batch?x=1&y=2#frag");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->target, "/hooks/batch?x=1&y=2");

  u = ParseUrl("http://example.com?q=1");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->target, "/?q=1");
}

TEST(HttpClientTest, ParseUrlExplicitPorts) {
  auto u = ParseUrl("https://example.com:8443/a");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, "8443");
  EXPECT_EQ(u->target, "/a");

  u = ParseUrl("http://127.0.0.1:65535/");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "65535");
}

TEST(HttpClientTest, ParseUrlIpv6Literals) {
  auto u = ParseUrl("http://[::1]:8080/x");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->target, "/x");

  u = ParseUrl("https://[2001:db8::1]/");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "2001:db8::1");
  EXPECT_EQ(u->port, "443");

  EXPECT_FALSE(ParseUrl("http://[::1/x").ok());
  EXPECT_FALSE(ParseUrl("http://[]:80/").ok());
}

TEST(HttpClientTest, ParseUrlRefusesCredentials) {
  for (const char* url : {"http://user:pass@example.com/", "https://user@example.com",
                          "http://@example.com/", "http://a:b@[::1]:80/"}) {
    auto u = ParseUrl(url);
    ASSERT_FALSE(u.ok()) << url;
    EXPECT_EQ(u.status().code(), StatusCode::kInvalidArgument) << url;
    EXPECT_NE(u.status().message().find("credentials"), std::string::npos) << url;
  }
  // An '@' in the path or query is not userinfo.
  auto u = ParseUrl("http://example.com/a@b?c=@d");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "example.com");
}

TEST(HttpClientTest, ParseUrlRefusesOtherSchemesAndMissingParts) {
  for (const char* url :
       {"ftp://example.com/", "file:///etc/passwd", "gopher://x:70/", "javascript:alert(1)",
        "example.com/path", "//example.com/", "", "http://", "http:///path", "http://:80/"}) {
    auto u = ParseUrl(url);
    ASSERT_FALSE(u.ok()) << url << " parsed as host " << u->host << " port " << u->port;
    EXPECT_EQ(u.status().code(), StatusCode::kInvalidArgument) << url;
  }
}

TEST(HttpClientTest, ParseUrlRefusesBadPorts) {
  for (const char* url :
       {"http://example.com:65536/", "http://example.com:99999/", "http://example.com:123456/",
        "http://example.com:18446744073709551617/", "http://example.com:8o/",
        "http://example.com:-1/", "http://example.com:+80/", "http://[::1]:70000/"}) {
    auto u = ParseUrl(url);
    ASSERT_FALSE(u.ok()) << url << " parsed as host " << u->host << " port " << u->port;
    EXPECT_EQ(u.status().code(), StatusCode::kInvalidArgument) << url;
  }
}

// Port 0 is no destination, and text between "]" and ":port" is no URL.
TEST(HttpClientTest, ParseUrlRefusesPortZeroAndJunkAfterIpv6Host) {
  for (const char* url : {"http://example.com:0/", "http://127.0.0.1:00/", "http://[::1]junk/",
                          "http://[::1]junk:80/"}) {
    auto u = ParseUrl(url);
    EXPECT_FALSE(u.ok()) << url << " parsed as host " << (u.ok() ? u->host : "") << " port "
                         << (u.ok() ? u->port : "");
  }
}

// ---------------------------------------------------------------------------------------------
// Plain HTTP behaviour against local servers.

// A free TCP port on 127.0.0.1 (bound, then released).
int FreePort() {
  asio::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

//! A listening socket that never accepts: connects succeed (kernel backlog), nothing answers.
struct SilentListener {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  int port() const { return acceptor.local_endpoint().port(); }
  // True if a connection is waiting in the backlog (it is accepted and dropped).
  bool HasPendingConnection() {
    acceptor.non_blocking(true);
    boost::system::error_code ec;
    tcp::socket s(ioc);
    acceptor.accept(s, ec);
    return !ec;
  }
};

TEST(HttpClientTest, AnswerIsReadAndRedirectsAreNotFollowed) {
  HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  std::atomic<int> calls{0};
  HttpServer server(options, [&](HttpRequest req, Responder respond) {
    ++calls;
    HttpResponse r = HttpResponse::Json(302, "{\"path\":\"" + req.path + "\"}");
    r.headers.emplace_back("location", "http://127.0.0.1:1/elsewhere");
    r.headers.emplace_back("X-Echo", std::string(req.Header("x-test")));
    respond(std::move(r));
  });
  auto port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status().ToString();
  HttpClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(*port) + "/hook";
  req.headers = {{"x-test", "abc"}};
  req.body = "{}";
  auto resp = HttpCall(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 302);
  EXPECT_EQ(resp->body, "{\"path\":\"/hook\"}");
  EXPECT_EQ(resp->Header("x-echo"), "abc");
  EXPECT_EQ(resp->remote_address, "127.0.0.1");
  EXPECT_EQ(calls.load(), 1);
  server.Stop(1000);
}

TEST(HttpClientTest, ServerThatNeverAnswersTimesOut) {
  SilentListener listener;
  HttpClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(listener.port()) + "/";
  req.timeout_ms = 300;
  auto start = std::chrono::steady_clock::now();
  auto resp = HttpCall(req);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kDeadlineExceeded) << resp.status().ToString();
  EXPECT_GE(elapsed, std::chrono::milliseconds(250));
  EXPECT_LT(elapsed, std::chrono::seconds(3));
}

TEST(HttpClientTest, TlsHandshakeThatNeverCompletesTimesOut) {
  SilentListener listener;
  HttpClientRequest req;
  req.url = "https://127.0.0.1:" + std::to_string(listener.port()) + "/";
  req.timeout_ms = 300;
  auto start = std::chrono::steady_clock::now();
  auto resp = HttpCall(req);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kDeadlineExceeded) << resp.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailable) {
  HttpClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(FreePort()) + "/";
  req.timeout_ms = 2000;
  auto resp = HttpCall(req);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable) << resp.status().ToString();
}

TEST(HttpClientTest, AddressCheckRefusalMakesNoConnection) {
  SilentListener listener;
  std::vector<std::string> checked;
  HttpClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(listener.port()) + "/";
  req.timeout_ms = 2000;
  req.address_check = [&](const std::string& ip) {
    checked.push_back(ip);
    return Status::FailedPrecondition("private address " + ip);
  };
  auto resp = HttpCall(req);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kFailedPrecondition) << resp.status().ToString();
  EXPECT_EQ(checked, std::vector<std::string>{"127.0.0.1"});
  EXPECT_FALSE(listener.HasPendingConnection()) << "a refused address was connected to";
}

// Second line of defence against request splitting: a control byte in a header name or
// value (or the method) is refused before anything is sent.
TEST(HttpClientTest, ControlBytesInHeadersOrMethodAreRefusedWithoutConnecting) {
  SilentListener listener;
  const std::string url = "http://127.0.0.1:" + std::to_string(listener.port()) + "/";
  std::vector<HttpClientRequest> requests(5);
  requests[0].headers = {{"webhook-id", "msg_1\r\nX-Injected: yes"}};
  requests[1].headers = {{"x-a", std::string("a\0b", 3)}};
  requests[2].headers = {{"x-a\r\nx-b", "1"}};
  requests[3].headers = {{"x-a", "line\nfeed"}};
  requests[4].method = "POST /x HTTP/1.1\r\n\r\nGET";
  for (auto& req : requests) {
    req.url = url;
    req.timeout_ms = 2000;
    auto resp = HttpCall(req);
    ASSERT_FALSE(resp.ok());
    EXPECT_EQ(resp.status().code(), StatusCode::kInvalidArgument) << resp.status().ToString();
  }
  EXPECT_FALSE(listener.HasPendingConnection()) << "a request with a control byte was sent";
}

TEST(HttpClientTest, AddressCheckSeesTheConnectedAddress) {
  SilentListener listener;
  std::vector<std::string> checked;
  HttpClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(listener.port()) + "/";
  req.timeout_ms = 2000;
  // Allow the resolved address, refuse once connected: the second check must stop the call.
  req.address_check = [&](const std::string& ip) {
    checked.push_back(ip);
    return checked.size() == 1 ? Status::Ok() : Status::FailedPrecondition("connected to " + ip);
  };
  auto resp = HttpCall(req);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kFailedPrecondition) << resp.status().ToString();
  EXPECT_EQ(checked, (std::vector<std::string>{"127.0.0.1", "127.0.0.1"}));
}

// ---------------------------------------------------------------------------------------------
// HTTPS: a self-signed certificate made here, served by a small asio TLS server.

struct Pem {
  std::string cert;
  std::string key;
};

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

// A self-signed P-256 certificate for CN=localhost with subjectAltName DNS:localhost.
Pem MakeSelfSignedLocalhost() {
  Pem out;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> x509(X509_new(), X509_free);
  if (!key || !x509) return out;
  X509* x = x509.get();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, key.get());
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "DNS:localhost"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
    if (ext == nullptr) return out;
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(x, key.get(), EVP_sha256()) == 0) return out;
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new(BIO_s_mem()), BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(cert_bio.get(), x);
  PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  out.cert = BioText(cert_bio.get());
  out.key = BioText(key_bio.get());
  return out;
}

//! HTTPS on 127.0.0.1:0 answering every request "200 ok", on its own thread. Counts finished
//! and failed handshakes.
class TlsServer {
 public:
  explicit TlsServer(const Pem& pem) {
    ctx_.use_certificate_chain(asio::buffer(pem.cert));
    ctx_.use_private_key(asio::buffer(pem.key), asio::ssl::context::pem);
    acceptor_.open(tcp::v4());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    Accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~TlsServer() {
    ioc_.stop();
    thread_.join();
  }

  int port() const { return acceptor_.local_endpoint().port(); }
  int handshakes_ok() const { return ok_; }
  int handshakes_failed() const { return failed_; }

 private:
  using Stream = asio::ssl::stream<tcp::socket>;

  void Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      auto stream = std::make_shared<Stream>(std::move(socket), ctx_);
      stream->async_handshake(asio::ssl::stream_base::server,
                              [this, stream](boost::system::error_code hec) {
                                if (hec) {
                                  ++failed_;
                                  return;
                                }
                                ++ok_;
                                Serve(stream);
                              });
      Accept();
    });
  }

  void Serve(const std::shared_ptr<Stream>& stream) {
    auto buffer = std::make_shared<asio::streambuf>();
    asio::async_read_until(
        *stream, *buffer, "\r\n\r\n", [stream, buffer](boost::system::error_code ec, size_t) {
          if (ec) return;
          static const std::string kAnswer =
              "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
              "Connection: close\r\n\r\nok";
          asio::async_write(*stream, asio::buffer(kAnswer),
                            [stream](boost::system::error_code, size_t) {
                              boost::system::error_code ignored;
                              stream->lowest_layer().close(ignored);
                            });
        });
  }

  asio::io_context ioc_;
  asio::ssl::context ctx_{asio::ssl::context::tls_server};
  tcp::acceptor acceptor_{ioc_};
  std::thread thread_;
  std::atomic<int> ok_{0};
  std::atomic<int> failed_{0};
};

TEST(HttpClientTest, HttpsRefusesAnUntrustedSelfSignedCertificate) {
  Pem pem = MakeSelfSignedLocalhost();
  ASSERT_FALSE(pem.cert.empty());
  TlsServer server(pem);
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    HttpClientRequest req;
    req.url = "https://" + host + ":" + std::to_string(server.port()) + "/";
    req.timeout_ms = 5000;
    auto resp = HttpCall(req);
    ASSERT_FALSE(resp.ok()) << "an untrusted certificate was accepted for " << host << " (HTTP "
                            << resp->status << ")";
    EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable) << resp.status().ToString();
    EXPECT_NE(resp.status().message().find("certificate verify failed"), std::string::npos)
        << resp.status().ToString();
  }
  EXPECT_EQ(server.handshakes_ok(), 0);
}

// The trusted case needs the certificate in the client's trust store, which the client reads
// once per process (SSL_CERT_FILE at first use). So the test runs this binary again with
// SSL_CERT_FILE set and only HttpClientTlsTrustedChildTest selected; outside that child
// process the child test skips itself.
TEST(HttpClientTlsTrustedChildTest, VerifiesChainAndHostName) {
  const char* port = std::getenv("PAPR_TEST_TLS_PORT");
  if (port == nullptr) GTEST_SKIP() << "runs only as the child of HttpsVerifiesTrustedCertificate";
  HttpClientRequest req;
  req.method = "GET";
  req.url = std::string("https://localhost:") + port + "/trusted";
  req.timeout_ms = 5000;
  auto resp = HttpCall(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "ok");
  // The certificate names localhost only: the same server by IP fails host name verification.
  req.url = std::string("https://127.0.0.1:") + port + "/by-ip";
  auto by_ip = HttpCall(req);
  ASSERT_FALSE(by_ip.ok()) << "host name verification accepted 127.0.0.1 for CN=localhost";
  EXPECT_EQ(by_ip.status().code(), StatusCode::kUnavailable) << by_ip.status().ToString();
}

TEST(HttpClientTest, HttpsVerifiesTrustedCertificate) {
  Pem pem = MakeSelfSignedLocalhost();
  ASSERT_FALSE(pem.cert.empty());
  TlsServer server(pem);
  char dir_template[] = "/tmp/papr_tls_test_XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const std::string cert_file = dir + "/ca.pem";
  const std::string log_file = dir + "/child.log";
  std::ofstream(cert_file) << pem.cert;

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    if (kv.rfind("SSL_CERT_", 0) == 0 || kv.rfind("PAPR_TEST_TLS_PORT=", 0) == 0) continue;
    env_strings.push_back(kv);
  }
  env_strings.push_back("SSL_CERT_FILE=" + cert_file);
  env_strings.push_back("SSL_CERT_DIR=" + dir);
  env_strings.push_back("PAPR_TEST_TLS_PORT=" + std::to_string(server.port()));
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string self = "/proc/self/exe";
  std::string filter = "--gtest_filter=HttpClientTlsTrustedChildTest.*";
  std::vector<char*> argv = {self.data(), filter.data(), nullptr};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_file.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, self.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ASSERT_EQ(rc, 0) << "posix_spawn: " << rc;
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  std::stringstream log;
  log << std::ifstream(log_file).rdbuf();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << log.str();
  EXPECT_NE(log.str().find("[  PASSED  ] 1 test"), std::string::npos) << log.str();
  EXPECT_EQ(server.handshakes_ok(), 1);
  std::remove(cert_file.c_str());
  std::remove(log_file.c_str());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace papr::net
