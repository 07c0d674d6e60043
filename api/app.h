#pragma once

#include <memory>

#include "common/result.h"
#include "config/config.h"

namespace papr::api {

//! The whole server: store, processors, batch runner (OSS executor or durable engine) and
//! the HTTP front. Start() returns once requests are accepted; Stop() drains and persists.
class App {
 public:
  static Result<std::unique_ptr<App>> Create(config::Config config);
  ~App();

  // Starts accepting HTTP requests; returns the bound port. Until Recover() has finished,
  // /readyz answers 503 and /v1 writes 503 + Retry-After (reads are served).
  Result<int> Listen();
  // Resumes open durable batches (the engine's recovery), then reports ready.
  Status Recover();
  void Stop();

 private:
  struct Rep;
  explicit App(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace papr::api
