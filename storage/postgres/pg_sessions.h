#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "storage/postgres/pg_options.h"

namespace papr::storage {

//! Who uses a PostgreSQL database, as engine-admin checks before it opens one (there is no
//! LOCK file as on RocksDB: sessions are told apart by their application_name).
struct PgDatabaseUse {
  std::string database;     // its name, for messages (never the URL: it may hold a password)
  bool has_schema = false;  // papr-server created its tables here (a schema_version table)
  int64_t sessions = 0;     // sessions on it, other than this check's, named as asked
};

// One short connection of its own (closed before returning). Unavailable when the database
// cannot be reached.
Result<PgDatabaseUse> InspectDatabaseUse(const PgStoreOptions& options,
                                         std::string_view application_name);

}  // namespace papr::storage
