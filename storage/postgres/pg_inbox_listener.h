#pragma once

// LISTEN on the inbox channel (pg_sql.h kInboxChannel) on a connection of its own: the
// writes that post inbox rows notify it when they commit (pg_batch_sql.cc).

#include <memory>

#include "common/result.h"
#include "storage/postgres/pg_options.h"
#include "storage/store.h"

namespace papr::storage::pg {

Result<std::unique_ptr<InboxListener>> ListenForInbox(const PgStoreOptions& options);

}  // namespace papr::storage::pg
