// The HTTP client's progress callback: called while the answer is awaited (activity
// heartbeats of webhook delivery and the processing endpoint ride on it).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "net/http_client.h"
#include "net/http_server.h"

namespace papr::net {
namespace {

// The server answers only once the client reported progress three times (or after 10 s):
// the calls are observed while the exchange is in flight, not timed.
TEST(HttpClientProgressTest, ProgressIsReportedWhileTheAnswerIsAwaited) {
  std::mutex mu;
  std::condition_variable cv;
  int progress = 0;
  std::thread answerer;
  HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  HttpServer server(options, [&](HttpRequest, Responder respond) {
    answerer = std::thread([&, respond = std::move(respond)]() mutable {
      std::unique_lock lock(mu);
      cv.wait_for(lock, std::chrono::seconds(10), [&] { return progress >= 3; });
      lock.unlock();
      respond(HttpResponse::Json(200, "{}"));
    });
  });
  auto port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status().ToString();
  HttpClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(*port) + "/slow";
  req.timeout_ms = 15000;
  req.progress_interval_ms = 10;
  req.on_progress = [&] {
    std::lock_guard lock(mu);
    ++progress;
    cv.notify_all();
  };
  auto resp = HttpCall(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  {
    std::lock_guard lock(mu);
    EXPECT_GE(progress, 3);
  }
  if (answerer.joinable()) answerer.join();
  server.Stop(1000);
}

}  // namespace
}  // namespace papr::net
