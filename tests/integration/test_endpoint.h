#pragma once

#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "net/http_server.h"

namespace papr::integration {

//! A processing endpoint (or any HTTP peer) for tests: the project's own net::HttpServer on
//! 127.0.0.1, port 0, answering with `handler`. Handlers may block (they run on one of
//! `io_threads` io threads, 16 by default: as many requests can be blocked at once). Stops in the
//! destructor, which waits for handlers still running.
class TestEndpoint {
 public:
  using Handler = std::function<net::HttpResponse(const net::HttpRequest&)>;

  explicit TestEndpoint(Handler handler, int io_threads = 16) {
    net::HttpServerOptions options;
    options.listen = "127.0.0.1:0";
    options.io_threads = io_threads;
    server_ = std::make_unique<net::HttpServer>(
        options, [handler = std::move(handler)](net::HttpRequest req, net::Responder respond) {
          respond(handler(req));
        });
    auto port = server_->Start();
    if (!port.ok()) {
      ADD_FAILURE() << "test endpoint: " << port.status().ToString();
      return;
    }
    port_ = *port;
  }
  ~TestEndpoint() { server_->Stop(1000); }

  std::string Url(const std::string& path = "/process") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  // `processing:` YAML pointing the server at this endpoint.
  std::string ProcessingYaml(int timeout_ms = 5000) const {
    return "processing:\n  endpoint: " + Url() + "\n  timeout_ms: " + std::to_string(timeout_ms) +
           "\n";
  }

 private:
  std::unique_ptr<net::HttpServer> server_;
  int port_ = 0;
};

}  // namespace papr::integration
