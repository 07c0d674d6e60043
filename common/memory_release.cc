#include "common/memory_release.h"

#include <malloc.h>
#include <time.h>

#include <atomic>
#include <fstream>
#include <string>

namespace papr {
namespace {

std::atomic<int64_t> g_trims{0}, g_released{0};

// A "VmRSS:"-style line of /proc/self/status, in bytes.
int64_t StatusBytes(const std::string& field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(field, 0) == 0) return std::stoll(line.substr(field.size())) * 1024;
  }
  return -1;
}

std::chrono::nanoseconds ProcessCpu() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

}  // namespace

int64_t ResidentBytes() { return StatusBytes("VmRSS:"); }
int64_t PeakResidentBytes() { return StatusBytes("VmHWM:"); }

void LimitMallocArenas(int arenas) {
  if (arenas > 0) mallopt(M_ARENA_MAX, arenas);
}

int64_t ReleaseFreeMemory() {
  int64_t before = ResidentBytes();
  malloc_trim(0);
  int64_t released = before - ResidentBytes();
  return released > 0 ? released : 0;
}

MemoryReleaseStats GetMemoryReleaseStats() { return {g_trims.load(), g_released.load()}; }

IdleMemoryReleaser::IdleMemoryReleaser(std::chrono::milliseconds interval)
    : interval_(interval), thread_([this] { Run(); }) {}

IdleMemoryReleaser::~IdleMemoryReleaser() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void IdleMemoryReleaser::Run() {
  auto last_cpu = ProcessCpu();
  bool busy_since_trim = true;  // start-up allocated and freed too
  std::unique_lock lock(mu_);
  while (!wake_.wait_for(lock, interval_, [this] { return stop_; })) {
    auto cpu = ProcessCpu();
    bool idle = (cpu - last_cpu) * 10 < interval_;
    last_cpu = cpu;
    if (!idle) {
      busy_since_trim = true;
    } else if (busy_since_trim) {
      busy_since_trim = false;
      g_released += ReleaseFreeMemory();
      ++g_trims;
      last_cpu = ProcessCpu();  // the trim's own CPU is not load
    }
  }
}

}  // namespace papr
