#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "net/http_types.h"

namespace papr::net {

struct HttpServerOptions {
  // "HOST:PORT"; port 0 picks a free port.
  std::string listen = "127.0.0.1:8080";
  // Threads running the io_context (accept, parse, write). Handlers must not block them:
  // the handler gets a Responder and answers from any thread. Default: 2.
  int io_threads = 2;
  // Bodies larger than this are refused with 413 and the connection closed.
  uint64_t max_body_bytes = 64 * 1024 * 1024;
  // A connection may wait this long for the first byte of a request (after it opened, or
  // after the previous answer on keep-alive) before it is closed. Default: 60.
  int idle_timeout_seconds = 60;
  // From its first byte, a request (head and body) must arrive whole within this, or the
  // connection is closed (slow clients cannot hold it). Default: 30.
  int read_timeout_seconds = 30;
  // Open connections beyond this are answered 503 and closed at once. Default: 1000.
  int max_connections = 1000;
};

// Answers one request; may be called from any thread, exactly once.
using Responder = std::function<void(HttpResponse)>;
// Called on an io thread for each request. Must not block: hand work to a pool.
using HttpHandler = std::function<void(HttpRequest, Responder)>;

//! HTTP/1.1 server on Boost.Beast: keep-alive, one request at a time per connection (so
//! pipelined requests are answered in order), body limit, idle and read deadlines, a
//! connection cap, strict framing (net/request_framing.h), draining stop.
//! Thread-safe.
class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();

  // Binds and starts the io threads. Returns the bound port.
  Result<int> Start();
  // Stops accepting, waits up to `drain_ms` for in-flight requests, then stops the threads.
  void Stop(int drain_ms = 10000);
  int port() const;
  // Prometheus text: papr_http_connections_open (gauge), papr_http_connections_refused_total.
  std::string MetricsText() const;

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace papr::net
