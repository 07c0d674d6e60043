#pragma once

#include "common/status.h"
#include "storage/postgres/pg_connection.h"

namespace papr::storage::pg {

// Creates every table when the database has no schema_version row, in one transaction
// serialised by an advisory lock (nodes starting together create it once). FailedPrecondition
// when the database holds a newer schema version than this build's kSchemaVersion.
Status EnsureSchema(PgConnection& conn);

}  // namespace papr::storage::pg
