#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace papr::engine_admin {

//! The parsed command line of engine-admin: the command, its positional arguments and every
//! flag. ParseFlags checks that each flag belongs to the command and that required ones are
//! there; anything it rejects is a usage error (exit code 2).
struct Flags {
  std::string command;            // list, describe, history, export, replay, ...
  std::vector<std::string> args;  // positionals after the command (ids, signal name)

  std::string data_dir;     // --data-dir: the server's data directory (RocksDB: database in
                            // <dir>/db); overrides the config's storage.data_dir
  std::string config_file;  // --config: the server's config (workflow settings, and
                            // storage.backend with its database); else PAPR_CONFIG, else
                            // built-in defaults
  bool json = false;        // --json, -o json, -o jsonl
  bool json_lines = false;  // -o jsonl: each item of the JSON answer's list on a line
  // --server URL (else $PAPR_SERVER) and --api-key K (else $PAPR_API_KEY): write commands
  // go through the running server's admin endpoints (server mode) instead of opening the
  // database (direct mode). Read commands ignore them and always work locally.
  std::string server_url;
  std::string api_key;

  std::optional<std::string> status;  // --status (list, replay --all)
  std::optional<std::string> type;    // --type (list)
  int64_t limit = 0;                  // --limit (0: command default)
  int64_t after = 0;                  // --after (history)
  bool raw = false;                   // --raw (history, export): payloads as stored bytes
  std::string file;                   // --file (replay)
  bool all = false;                   // --all (replay)
  std::optional<std::string> reason;  // --reason (terminate, cancel)
  std::string input;                  // --input (signal): JSON text
  bool help = false;                  // --help / -h / help
  // -w / --workflow-id ID: the command's ID argument, as temporal's CLI names it.
};

//! Values the environment gives write commands when the flag is absent.
struct FlagEnvironment {
  std::string server_url;  // $PAPR_SERVER
  std::string api_key;     // $PAPR_API_KEY
  // $PAPR_CONFIG, $PAPR_DATA_DIR or $PAPR_STORAGE_BACKEND is set: the database is named
  // without --data-dir or --config.
  bool storage_configured = false;
};

// Parses argv[1..]. InvalidArgument (a usage error) names the offending argument.
Result<Flags> ParseFlags(const std::vector<std::string>& argv, const FlagEnvironment& env = {});

// terminate, cancel, signal, retry.
bool IsWriteCommand(const std::string& command);
// A write command with a server URL: it goes through the server.
bool ServerMode(const Flags& flags);

// The --help text.
std::string UsageText();

}  // namespace papr::engine_admin
