#pragma once

#include <memory>

#include "common/result.h"
#include "storage/store.h"

namespace papr::storage {

// A read-only Store over one snapshot of `store` taken now (on PostgreSQL a REPEATABLE READ
// READ ONLY transaction): every read sees the store as of this call, whatever is committed
// later. Write and the shard-lease calls answer FailedPrecondition. For engine-admin's read
// commands (Db::OpenOnStore over it), which run beside a live server. It owns `store`.
Result<std::unique_ptr<Store>> OpenSnapshotStore(std::unique_ptr<Store> store);

}  // namespace papr::storage
