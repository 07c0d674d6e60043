#include "cluster/shard_hash.h"

namespace papr::cluster {
namespace {

uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

std::string_view RootOf(std::string_view workflow_id) {
  return workflow_id.substr(0, workflow_id.find('/'));
}

uint64_t StableHash(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return Mix(h);
}

uint32_t ShardOf(std::string_view workflow_id, uint32_t shard_count) {
  return static_cast<uint32_t>(StableHash(RootOf(workflow_id)) % shard_count);
}

}  // namespace papr::cluster
