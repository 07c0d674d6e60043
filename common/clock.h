#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace papr {

//! Injected time source (Envoy's TimeSource): code that needs "now" takes a Clock so tests
//! can control it. Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in milliseconds since the Unix epoch.
  virtual int64_t NowMillis() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMillis() const override;
  static SystemClock* Default();
};

// Milliseconds since epoch -> "2026-11-27T08:01:02.345Z" (RFC 3339, UTC).
std::string FormatRfc3339(int64_t millis);

}  // namespace papr
