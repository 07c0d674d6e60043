#pragma once

// Which shard a workflow belongs to (SCALE-OUT.md): a hash of its root id, so that a batch's
// chunks (`root/chunk-N`) share the root's shard and commit under one fence. The hash is part
// of the stored layout: a database's shards hold executions by it, so it never changes.

#include <cstdint>
#include <string_view>

namespace papr::cluster {

// The root of `workflow_id`: what comes before its first '/', or the whole id.
std::string_view RootOf(std::string_view workflow_id);

// A 64-bit hash of `bytes` (FNV-1a, then splitmix64's finaliser for the low bits' sake).
uint64_t StableHash(std::string_view bytes);

// The shard of `workflow_id` among `shard_count` (> 0): StableHash(RootOf(id)) % shard_count.
uint32_t ShardOf(std::string_view workflow_id, uint32_t shard_count);

}  // namespace papr::cluster
