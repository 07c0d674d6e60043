#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tools/engine_admin/admin_flags.h"
#include "tools/engine_admin/commands.h"

namespace papr::engine_admin {

//! What a write command reports, in direct or server mode (write_commands.cc renders it).
struct WriteReport {
  std::string mode;         // "direct" or "server"
  std::string mode_detail;  // the rest of the text's "mode: ..." line
  // Extra top-level JSON fields naming where it ran: {"config", ...} or {"server", ...}.
  std::vector<std::pair<std::string, std::string>> mode_fields;
  std::string command;
  std::string workflow_id;
  std::string status;  // the execution's status once the command is durable
  bool cancel_requested = false;
  // Direct mode: each open child and what happened to it (server mode does not list them).
  std::optional<std::vector<std::pair<std::string, std::string>>> children;
  // retry: the batch started for the failed memories.
  std::string new_batch_id;
  int64_t retried = 0;
  bool existing = false;  // this batch had been retried before: that retry is the answer
  std::string note;
};

// Text (or with --json one JSON object) for `report`.
CommandOutput RenderWriteReport(const Flags& flags, const WriteReport& report);

// Server mode (server_commands.cc): the command through the admin endpoints of the server at
// flags.server_url with flags.api_key.
Result<CommandOutput> RunThroughServer(const Flags& flags);

// Checks that --input is JSON (empty is fine: no input).
Status CheckInputJson(const std::string& text);

}  // namespace papr::engine_admin
