#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "storage/batch.h"
#include "storage/postgres/pg_params.h"

namespace papr::storage::pg {

//! One execution of a prepared statement.
struct StatementCall {
  std::string statement;
  PgParams params;
  size_t rows = 0;  // rows it writes (for stats)
};

// The statements that apply `batch` (without BEGIN/fence/COMMIT): per table, one multi-row
// INSERT of the Insert keys, one upsert of the Put keys and one DELETE, then the counter
// deletes and adds (with `stripe`), each key at most once per statement (for one key the last
// op of the batch wins; deltas are summed) and in key order (concurrent transactions lock rows
// in the same order: no deadlocks). AlreadyExists when the batch inserts one key twice.
Result<std::vector<StatementCall>> CompileBatch(const Batch& batch, int stripe);
// The statements that apply `batches` one after the other, as one batch of all their ops
// (AlreadyExists also when two of them insert one key, or one inserts a key an earlier one
// wrote: an Insert checks the key as it was before the transaction). The batches outlive the
// calls.
Result<std::vector<StatementCall>> CompileBatches(const std::vector<const Batch*>& batches,
                                                  int stripe);

}  // namespace papr::storage::pg
