#pragma once

#include "tests/storage/pg_harness.h"

namespace papr::storage::testing {

// The PostgreSQL server of this test binary, started once by a global test environment
// (initdb and start take seconds); null when the binaries are absent.
PgServer* SharedPgServer();

// The message of a test skipped for want of PostgreSQL.
const char* PgMissingMessage();

}  // namespace papr::storage::testing
