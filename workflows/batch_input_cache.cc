#include "workflows/batch_input_cache.h"

#include <algorithm>

namespace papr::workflows {
namespace {
// A string's heap block (none while it fits the small-string buffer).
int64_t HeapBytes(const std::string& s) {
  return s.capacity() > 15 ? static_cast<int64_t>(s.capacity()) + 1 : 0;
}
}  // namespace

int64_t SliceBytes(const MemorySlice& slice) {
  int64_t bytes = static_cast<int64_t>(sizeof(MemorySlice) +
                                       slice.memories.capacity() * sizeof(MemoryInput));
  for (const MemoryInput& m : slice.memories) {
    bytes += HeapBytes(m.content) + HeapBytes(m.type) + HeapBytes(m.metadata_json) +
             HeapBytes(m.context_json) + HeapBytes(m.external_user_id);
  }
  return bytes;
}

BatchInputCache::SlicePtr BatchInputCache::Find(const std::string& chunk_key, int64_t offset) {
  std::lock_guard lock(mu_);
  auto group = by_chunk_.find(chunk_key);
  if (group == by_chunk_.end()) return nullptr;
  for (Lru::iterator it : group->second) {
    if (!it->slice) continue;
    const MemorySlice& s = *it->slice;
    if (offset >= s.first && offset < s.first + static_cast<int64_t>(s.memories.size())) {
      slices_.splice(slices_.begin(), slices_, it);  // iterators stay valid
      return it->slice;
    }
  }
  return nullptr;
}

BatchInputCache::SlicePtr BatchInputCache::Insert(const std::string& chunk_key,
                                                  MemorySlice slice) {
  int64_t bytes = SliceBytes(slice) + static_cast<int64_t>(chunk_key.size());
  auto shared = std::make_shared<const MemorySlice>(std::move(slice));
  if (bytes > max_bytes_) return shared;
  std::lock_guard lock(mu_);
  while (bytes_ + bytes > max_bytes_ && !blobs_.empty()) EvictLastLocked(&blobs_);
  while (bytes_ + bytes > max_bytes_ && !slices_.empty()) EvictLastLocked(&slices_);
  InsertLocked(&slices_, Entry{chunk_key, shared, nullptr, bytes});
  return shared;
}

BatchInputCache::BlobPtr BatchInputCache::FindBlob(const std::string& chunk_key) {
  std::lock_guard lock(mu_);
  auto group = by_chunk_.find(chunk_key);
  if (group == by_chunk_.end()) return nullptr;
  for (Lru::iterator it : group->second) {
    if (!it->blob) continue;
    blobs_.splice(blobs_.begin(), blobs_, it);
    return it->blob;
  }
  return nullptr;
}

BatchInputCache::BlobPtr BatchInputCache::InsertBlob(const std::string& chunk_key,
                                                     std::string blob) {
  int64_t bytes = static_cast<int64_t>(blob.capacity() + chunk_key.size());
  auto shared = std::make_shared<const std::string>(std::move(blob));
  if (bytes > max_bytes_) return shared;
  std::lock_guard lock(mu_);
  while (bytes_ + bytes > max_bytes_ && !blobs_.empty()) EvictLastLocked(&blobs_);
  if (bytes_ + bytes <= max_bytes_) InsertLocked(&blobs_, Entry{chunk_key, nullptr, shared, bytes});
  return shared;
}

void BatchInputCache::InsertLocked(Lru* list, Entry entry) {
  bytes_ += entry.bytes;
  std::string key = entry.chunk_key;
  list->push_front(std::move(entry));
  by_chunk_[key].push_back(list->begin());
}

void BatchInputCache::EvictLastLocked(Lru* list) {
  auto last = std::prev(list->end());
  bytes_ -= last->bytes;
  auto group = by_chunk_.find(last->chunk_key);
  auto& entries = group->second;
  entries.erase(std::find(entries.begin(), entries.end(), last));
  if (entries.empty()) by_chunk_.erase(group);
  list->erase(last);
}

int64_t BatchInputCache::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

size_t BatchInputCache::slices() const {
  std::lock_guard lock(mu_);
  return slices_.size();
}

}  // namespace papr::workflows
