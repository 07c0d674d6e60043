#pragma once

#include <csignal>

namespace papr {

//! How a long-running binary waits for its stop signal. Blocks SIGTERM and SIGINT in the calling
//! thread, and so in every thread it starts afterwards (they inherit the mask), so the signal is
//! taken only by Wait(); ignores SIGPIPE (a peer closing its socket must not kill the process).
//! Construct in main() before any thread starts.
class StopSignals {
 public:
  StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Blocks until SIGTERM or SIGINT arrives; returns its number.
  int Wait();

 private:
  sigset_t signals_;
};

}  // namespace papr
