// Idle memory release: freed heap pages below a live allocation stay resident under glibc
// until malloc_trim; the releaser trims once the process goes idle after being busy.
#include "common/memory_release.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <memory>
#include <thread>
#include <vector>

namespace papr {
namespace {

// ASan and TSan replace glibc's allocator: malloc_trim and the arena cap act on a heap the
// program does not use there, so these tests only mean something in the other builds.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kGlibcHeap = false;
#else
constexpr bool kGlibcHeap = true;
#endif
#define SKIP_WITHOUT_GLIBC_HEAP() \
  if (!kGlibcHeap) GTEST_SKIP() << "a sanitizer build replaces glibc's allocator"

// Allocates ~`mb` MB in 1 KB blocks and frees all but every 64th: the freed runs lie between
// live blocks, not at the heap's top, so free() itself cannot give them back.
std::vector<std::unique_ptr<char[]>> FragmentHeap(int mb) {
  std::vector<std::unique_ptr<char[]>> blocks(static_cast<size_t>(mb) * 1024), kept;
  for (auto& b : blocks) {
    b.reset(new char[1000]);
    for (int j = 0; j < 1000; j += 256) b[j] = static_cast<char>(j);
  }
  for (size_t i = 0; i < blocks.size(); i += 64) kept.push_back(std::move(blocks[i]));
  return kept;  // the rest freed here
}

TEST(MemoryReleaseTest, ReleaseFreeMemoryGivesFreedHeapBack) {
  SKIP_WITHOUT_GLIBC_HEAP();
  auto pin = FragmentHeap(100);
  int64_t before = ResidentBytes();
  ASSERT_GT(before, 80 << 20);
  int64_t released = ReleaseFreeMemory();
  EXPECT_GT(released, 50 << 20);
  EXPECT_LT(ResidentBytes(), before - (50 << 20));
}

TEST(MemoryReleaseTest, IdleReleaserTrimsOncePerIdleSpell) {
  SKIP_WITHOUT_GLIBC_HEAP();
  IdleMemoryReleaser releaser(std::chrono::milliseconds(50));
  auto wait_for_trims = [](int64_t n) {
    for (int i = 0; i < 200 && GetMemoryReleaseStats().trims < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return GetMemoryReleaseStats().trims;
  };
  int64_t first = wait_for_trims(GetMemoryReleaseStats().trims + 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // idle: no trim again
  EXPECT_EQ(GetMemoryReleaseStats().trims, first);
  // Busy (allocating) for a while, then idle with ~100 MB freed: a trim takes it back. (On a
  // loaded box a descheduled busy spell can look idle and trim early too: at least one.)
  std::vector<std::unique_ptr<char[]>> pin;
  for (int round = 0; round < 4; ++round) pin = FragmentHeap(100);
  int64_t released_before = GetMemoryReleaseStats().released_bytes;
  auto released_since = [&] { return GetMemoryReleaseStats().released_bytes - released_before; };
  for (int i = 0; i < 200 && released_since() <= (50 << 20); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(GetMemoryReleaseStats().trims, first + 1);
  EXPECT_GT(released_since(), 50 << 20);
}

// The arenas glibc made so far (<heap nr=...> elements of malloc_info).
int MallocArenas() {
  char* buf = nullptr;
  size_t size = 0;
  FILE* f = open_memstream(&buf, &size);
  malloc_info(0, f);
  std::fclose(f);
  std::string xml(buf, size);
  std::free(buf);
  int heaps = 0;
  for (size_t at = 0; (at = xml.find("<heap nr=", at)) != std::string::npos; ++at) ++heaps;
  return heaps;
}

// glibc gives each new thread a new arena up to 8 per core; capped, 12 threads at once share.
TEST(MemoryReleaseTest, ArenasAreCapped) {
  SKIP_WITHOUT_GLIBC_HEAP();
  int before = MallocArenas();
  LimitMallocArenas(2);
  std::atomic<int> started{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t) {
    threads.emplace_back([&started] {
      std::unique_ptr<char[]> block(new char[1000]);
      block[0] = 1;
      ++started;
      while (started < 12) std::this_thread::yield();  // all alive at once
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(MallocArenas(), std::max(before, 2));
}

TEST(MemoryReleaseTest, ResidentBytesAreReadable) {
  EXPECT_GT(ResidentBytes(), 0);
  EXPECT_GE(PeakResidentBytes(), ResidentBytes());
}

}  // namespace
}  // namespace papr
