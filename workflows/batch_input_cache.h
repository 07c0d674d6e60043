#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "workflows/batch_codec.h"

namespace papr::workflows {

// Heap bytes a slice holds (what the cache charges for it).
int64_t SliceBytes(const MemorySlice& slice);

//! The decoded inputs of batches in flight, bounded in bytes (`processing.input_cache_bytes`):
//! memory activities read their input on every memory. Slices, not whole chunks: concurrent
//! batches each touch a window of ~max_concurrent_tasks memories, so 100 of them fit in
//! tens of MB instead of evicting each other. Least recently used slices go first. Thread-safe.
class BatchInputCache {
 public:
  using SlicePtr = std::shared_ptr<const MemorySlice>;
  using BlobPtr = std::shared_ptr<const std::string>;
  explicit BatchInputCache(int64_t max_bytes) : max_bytes_(max_bytes) {}

  // The cached slice of chunk `chunk_key` holding memory `offset`, or nullptr.
  SlicePtr Find(const std::string& chunk_key, int64_t offset);
  // Caches `slice` (evicting the least recently used past the byte bound; a slice larger
  // than the whole bound is returned but not kept) and returns it.
  SlicePtr Insert(const std::string& chunk_key, MemorySlice slice);
  // The chunk's stored blob, kept alongside its slices while there is room (a lone big batch
  // then reads it once, not once per slice). Blobs only take room slices do not need: a
  // slice evicts blobs first, and a blob never evicts a slice (it is then not kept).
  BlobPtr FindBlob(const std::string& chunk_key);
  BlobPtr InsertBlob(const std::string& chunk_key, std::string blob);
  int64_t bytes() const;
  size_t slices() const;

 private:
  struct Entry {
    std::string chunk_key;
    SlicePtr slice;  // or
    BlobPtr blob;
    int64_t bytes;
  };
  using Lru = std::list<Entry>;
  void InsertLocked(Lru* list, Entry entry);
  // Drops the least recently used of `list` (slices_ or blobs_).
  void EvictLastLocked(Lru* list);

  const int64_t max_bytes_;
  mutable std::mutex mu_;
  Lru slices_, blobs_;  // most recent first
  std::unordered_map<std::string, std::vector<Lru::iterator>> by_chunk_;
  int64_t bytes_ = 0;
};

}  // namespace papr::workflows
