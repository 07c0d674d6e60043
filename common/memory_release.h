#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace papr {

//! Gives freed heap memory back to the OS once the process goes idle. glibc keeps what a load
//! freed in its arenas (RSS stays at the load's peak for good); malloc_trim returns the free
//! pages. Trimming while busy would only make the next allocations fault the pages back in,
//! so it runs once per idle spell: the first `interval` in which the process used under a
//! tenth of a core after being busier. Stops (joins) in its destructor.
class IdleMemoryReleaser {
 public:
  explicit IdleMemoryReleaser(std::chrono::milliseconds interval);
  ~IdleMemoryReleaser();
  IdleMemoryReleaser(const IdleMemoryReleaser&) = delete;
  IdleMemoryReleaser& operator=(const IdleMemoryReleaser&) = delete;

 private:
  void Run();

  const std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

struct MemoryReleaseStats {
  int64_t trims = 0;           // idle trims done
  int64_t released_bytes = 0;  // RSS they gave back, summed
};
MemoryReleaseStats GetMemoryReleaseStats();

// This process's resident set (VmRSS) and its peak (VmHWM), in bytes; -1 when unreadable.
int64_t ResidentBytes();
int64_t PeakResidentBytes();

// Caps glibc's malloc arenas (default 8 per core): every thread that meets a locked arena
// makes a new one, and each keeps its own freed memory. Call before threads start; 0 keeps
// glibc's default.
void LimitMallocArenas(int arenas);

// Returns free heap pages to the OS now (malloc_trim); the RSS it released, in bytes.
int64_t ReleaseFreeMemory();

}  // namespace papr
