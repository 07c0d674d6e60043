#pragma once

#include <optional>
#include <vector>

#include "common/status.h"
#include "storage/batch.h"
#include "storage/postgres/pg_batch_sql.h"
#include "storage/postgres/pg_connection.h"

namespace papr::storage::pg {

//! What one committed transaction cost.
struct TransactionCost {
  int round_trips = 0;
  int statements = 0;
};

// Runs BEGIN; [SET LOCAL synchronous_commit = off]; [fence]; `calls`; COMMIT as one pipeline:
// one round trip. Nothing applied on any error, except UnknownOutcome: the connection died
// after COMMIT may have reached the server (its result never came back). Unavailable when the
// connection died before COMMIT was sent. A failed transaction is rolled back (a second round
// trip, on the error path only) so the connection can be reused.
Status RunPipelinedTransaction(PgConnection& conn, const std::optional<Fence>& fence,
                               bool no_sync, const std::vector<StatementCall>& calls,
                               TransactionCost* cost);

}  // namespace papr::storage::pg
