#pragma once

#include <cstdint>

#include "common/result.h"
#include "storage/store.h"

namespace papr::cluster {

// The most shards a cluster may have (a shard's id is a PostgreSQL integer; each costs a
// lease renewal per heartbeat on its owner).
inline constexpr uint32_t kMaxShards = 4096;

// The cluster's shard count, fixed by the first node that runs on `store`: the first call
// stores `configured`; later calls return the stored count. FailedPrecondition when
// `configured` differs from it (executions already live in shards by the stored count) or is
// not within 1..kMaxShards; Corruption when the stored value does not parse.
Result<uint32_t> EnsureShardCount(storage::Store& store, uint32_t configured);

}  // namespace papr::cluster
