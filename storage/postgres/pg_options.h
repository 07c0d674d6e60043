#pragma once

#include <cstdint>
#include <string>

namespace papr::storage {

//! Options of the PostgreSQL backend (config keys storage.postgres.*). Plain struct.
struct PgStoreOptions {
  // libpq connection URL or key=value string, e.g. "postgresql://papr@127.0.0.1:5432/papr".
  std::string url;
  // Connections in the pool: the most transactions in flight at once (group commit needs
  // several). A snapshot holds one for its lifetime. Default: 8.
  int pool_size = 8;
  // Server-side statement_timeout of every statement, in ms (0: none); also how long a caller
  // waits for a free pooled connection. Default: 10000.
  int64_t statement_timeout_ms = 10000;
  // How long libpq waits to establish a connection, in seconds. Default: 5.
  int connect_timeout_seconds = 5;
  // application_name of every connection (pg_stat_activity): engine-admin tells its sessions
  // apart from the server's with it (tools/engine_admin). Default: "papr-server".
  std::string application_name = "papr-server";
};

}  // namespace papr::storage
