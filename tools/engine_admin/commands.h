#pragma once

#include <string>

#include "common/result.h"
#include "storage/db.h"
#include "tools/engine_admin/admin_flags.h"

namespace papr::engine_admin {

//! What a command prints on stdout and its exit code (0, or 1 for a replay mismatch). A
//! failed command returns a Status instead: one line on stderr, exit code 1.
struct CommandOutput {
  std::string text;
  int exit_code = 0;
};

// Read commands (read_commands.cc, stats_command.cc): read a snapshot of the database
// (AdminStore::OpenForReading).
Result<CommandOutput> RunList(const Flags& flags);
Result<CommandOutput> RunDescribe(const Flags& flags);
Result<CommandOutput> RunHistory(const Flags& flags);
Result<CommandOutput> RunExport(const Flags& flags);
Result<CommandOutput> RunStats(const Flags& flags);

// Cluster (cluster_commands.cc): nodes, and each shard's owner, range_id, lease and open
// executions, read from the PostgreSQL database the nodes share.
Result<CommandOutput> RunNodes(const Flags& flags);
Result<CommandOutput> RunShards(const Flags& flags);

// Replay (replay_command.cc): ReplayCheck against the workflow code of this build.
Result<CommandOutput> RunReplay(const Flags& flags);

// Write commands (write_commands.cc), direct mode: open the database read-write (refused
// while a server uses it) and apply through an Engine that runs no activities.
Result<CommandOutput> RunTerminate(const Flags& flags);
Result<CommandOutput> RunCancel(const Flags& flags);
Result<CommandOutput> RunSignal(const Flags& flags);
Result<CommandOutput> RunRetry(const Flags& flags);

// Repairs (repair_commands.cc), direct mode only: reset and fail an open execution the
// server could not resume; ResumeProblem says why one cannot be resumed ("" if it can).
Result<CommandOutput> RunReset(const Flags& flags);
Result<CommandOutput> RunFail(const Flags& flags);
std::string ResumeProblem(const Flags& flags, storage::Db* db, const std::string& id);

// Dispatches flags.command to one of the above.
Result<CommandOutput> RunCommand(const Flags& flags);

}  // namespace papr::engine_admin
