#include "engine/crash_point.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace papr::engine {
namespace {

struct CrashSpec {
  std::string name;
  long target = 0;
  std::atomic<long> hits{0};
  CrashSpec() {
    const char* env = std::getenv("PAPR_CRASH_AT");
    if (env == nullptr) return;
    std::string spec = env;
    size_t colon = spec.rfind(':');
    name = spec.substr(0, colon);
    target = colon == std::string::npos ? 1 : std::atol(spec.c_str() + colon + 1);
  }
};

CrashSpec& Spec() {
  static CrashSpec spec;
  return spec;
}

}  // namespace

void CrashPoint(const char* name) {
  CrashSpec& spec = Spec();
  if (spec.name.empty() || spec.name != name) return;
  if (spec.hits.fetch_add(1) + 1 == spec.target) {
    std::fprintf(stderr, "papr: crash point %s:%ld reached, exiting\n", name, spec.target);
    _exit(137);
  }
}

void RecoveryDelayForTest() {
  const char* env = std::getenv("PAPR_TEST_RECOVERY_DELAY_MS");
  long ms = env == nullptr ? 0 : std::atol(env);
  if (ms > 0) {
    std::fprintf(stderr, "papr: delaying recovery by %ld ms (PAPR_TEST_RECOVERY_DELAY_MS)\n", ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }
}

}  // namespace papr::engine
