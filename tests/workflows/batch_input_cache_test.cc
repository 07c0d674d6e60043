// The decoded-batch-input cache: bounded in bytes, slices cut the same way by every reader,
// and 100 concurrent 10,000-memory batches each decode every slice once (the 8-chunk cache
// before it evicted them from each other on nearly every memory).
#include "workflows/batch_input_cache.h"

#include <gtest/gtest.h>

namespace papr::workflows {
namespace {

std::vector<MemoryInput> Memories(int64_t n, size_t content_bytes) {
  std::vector<MemoryInput> out(n);
  for (int64_t i = 0; i < n; ++i) {
    out[i].content = "memory " + std::to_string(i) + " " + std::string(content_bytes, 'x');
  }
  return out;
}

TEST(BatchInputCacheTest, EveryMemoryIsFoundInTheSliceHoldingIt) {
  std::string blob = EncodeMemories(Memories(1000, 500));
  for (int64_t i = 0; i < 1000; ++i) {
    auto slice = DecodeMemorySlice(blob, i);
    ASSERT_TRUE(slice.ok()) << slice.status().ToString();
    ASSERT_LE(slice->first, i);
    ASSERT_LT(i, slice->first + static_cast<int64_t>(slice->memories.size()));
    EXPECT_EQ(slice->memories[i - slice->first].content.rfind("memory " + std::to_string(i) + " ", 0), 0u);
    EXPECT_LE(static_cast<int64_t>(slice->memories.size()), kSliceMemories);
    EXPECT_EQ(slice->first % kSliceMemories, 0);  // small memories: count-bounded slices
  }
  EXPECT_FALSE(DecodeMemorySlice(blob, 1000).ok());
  EXPECT_FALSE(DecodeMemorySlice(blob, -1).ok());
}

TEST(BatchInputCacheTest, SlicesOfLargeMemoriesAreBoundedInBytes) {
  std::string blob = EncodeMemories(Memories(100, 100000));  // ~10 MB
  auto first = DecodeMemorySlice(blob, 0);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->memories.size(), static_cast<size_t>(kSliceTargetBytes / 100000 + 1));
  auto again = DecodeMemorySlice(blob, static_cast<int64_t>(first->memories.size()) - 1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->first, 0);  // the same cut from another offset
  auto next = DecodeMemorySlice(blob, static_cast<int64_t>(first->memories.size()));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->first, static_cast<int64_t>(first->memories.size()));
}

TEST(BatchInputCacheTest, HoldsAtMostItsBytesDroppingTheLeastRecentlyUsed) {
  MemorySlice sample{0, Memories(kSliceMemories, 500)};
  const int64_t one = SliceBytes(sample) + 8;
  EXPECT_GT(one, kSliceMemories * 500);
  BatchInputCache cache(3 * one + one / 2);  // room for three slices
  for (int chunk = 0; chunk < 3; ++chunk) {
    cache.Insert("batch\n" + std::to_string(chunk), MemorySlice{0, Memories(kSliceMemories, 500)});
  }
  ASSERT_NE(cache.Find("batch\n0", 10), nullptr);  // 0 is now the most recently used
  cache.Insert("batch\n3", MemorySlice{0, Memories(kSliceMemories, 500)});
  EXPECT_LE(cache.bytes(), 3 * one + one / 2);
  EXPECT_EQ(cache.slices(), 3u);
  EXPECT_EQ(cache.Find("batch\n1", 10), nullptr);  // the least recently used went
  EXPECT_NE(cache.Find("batch\n0", 10), nullptr);
  EXPECT_NE(cache.Find("batch\n3", 10), nullptr);
  EXPECT_EQ(cache.Find("batch\n3", kSliceMemories), nullptr);  // past the slice
  // A slice larger than the whole cache is handed out but not kept.
  BatchInputCache tiny(one / 2);
  auto big = tiny.Insert("batch\n0", MemorySlice{0, Memories(kSliceMemories, 500)});
  EXPECT_EQ(big->memories.size(), static_cast<size_t>(kSliceMemories));
  EXPECT_EQ(tiny.bytes(), 0);
}

TEST(BatchInputCacheTest, KeepsTheChunkBlobWhileThereIsRoom) {
  BatchInputCache cache(1 << 20);
  EXPECT_EQ(cache.FindBlob("batch\n0"), nullptr);
  cache.InsertBlob("batch\n0", std::string(1000, 'b'));
  cache.Insert("batch\n0", MemorySlice{0, Memories(10, 10)});
  ASSERT_NE(cache.FindBlob("batch\n0"), nullptr);
  EXPECT_EQ(cache.FindBlob("batch\n0")->size(), 1000u);
  EXPECT_NE(cache.Find("batch\n0", 3), nullptr);  // the blob entry is not taken for a slice
  cache.InsertBlob("batch\n1", std::string((1 << 20) - 100, 'b'));  // pushes out batch 0
  EXPECT_EQ(cache.FindBlob("batch\n0"), nullptr);
  EXPECT_LE(cache.bytes(), 1 << 20);
}

// 100 batches of 10,000 memories of 500 bytes, their activities interleaved as the engine's
// FIFO runs them (each batch 100 memories in flight), each miss also caching the chunk's 5 MB
// blob: with the default 64 MiB every slice is decoded once, and the cache stays within its
// bound.
TEST(BatchInputCacheTest, HundredConcurrentBigBatchesDecodeEachSliceOnce) {
  constexpr int kBatches = 100;
  constexpr int64_t kPer = 10000, kInFlight = 100;
  const int64_t budget = config::Processing{}.input_cache_bytes;
  BatchInputCache cache(budget);
  int64_t decodes = 0, peak = 0;
  std::vector<MemoryInput> proto = Memories(kSliceMemories, 500);
  for (int64_t step = 0; step < kPer; ++step) {
    for (int b = 0; b < kBatches; ++b) {
      // The memory started now is `step + kInFlight`; the oldest in flight is `step`.
      for (int64_t index : {step, std::min(step + kInFlight, kPer - 1)}) {
        std::string key = "batch-" + std::to_string(b) + "\n0";
        if (cache.Find(key, index)) continue;
        ++decodes;
        if (!cache.FindBlob(key)) {  // the chunk's stored blob, read as the service reads it
          std::string blob;
          blob.reserve(kPer * 500);
          cache.InsertBlob(key, std::move(blob));
        }
        int64_t first = index / kSliceMemories * kSliceMemories;
        size_t n = static_cast<size_t>(std::min(kSliceMemories, kPer - first));
        cache.Insert(key, MemorySlice{first, {proto.begin(), proto.begin() + n}});
        peak = std::max(peak, cache.bytes());
      }
    }
  }
  EXPECT_EQ(decodes, kBatches * ((kPer + kSliceMemories - 1) / kSliceMemories));
  EXPECT_LE(peak, budget);
}

}  // namespace
}  // namespace papr::workflows
