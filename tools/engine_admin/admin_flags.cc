#include "tools/engine_admin/admin_flags.h"

#include <charconv>
#include <set>

#include "engine/execution_record.h"

namespace papr::engine_admin {
namespace {

//! What one command accepts: positional count and its own flags (global flags always).
struct CommandSpec {
  const char* name;
  size_t min_args;
  size_t max_args;
  std::set<std::string> flags;
};

const std::vector<CommandSpec>& Commands() {
  static const std::vector<CommandSpec> kCommands = {
      {"list", 0, 0, {"--status", "--type", "--limit"}},
      {"describe", 1, 1, {}},
      {"history", 1, 1, {"--after", "--limit", "--raw"}},
      {"export", 1, 1, {"--raw"}},
      {"replay", 0, 1, {"--file", "--all", "--status"}},
      {"stats", 0, 0, {}},
      {"nodes", 0, 0, {}},
      {"shards", 0, 0, {}},
      {"terminate", 1, 1, {"--reason"}},
      {"cancel", 1, 1, {"--reason"}},
      {"signal", 2, 2, {"--input"}},
      {"retry", 1, 1, {}},
      {"reset", 1, 1, {}},
      {"fail", 1, 1, {"--reason"}},
  };
  return kCommands;
}

const std::set<std::string>& GlobalFlags() {
  static const std::set<std::string> kGlobal = {"--data-dir", "--config", "--json",  "--output",
                                                "--server",   "--api-key", "--workflow-id"};
  return kGlobal;
}

bool IsBoolFlag(const std::string& name) {
  return name == "--json" || name == "--all" || name == "--raw";
}

Status Usage(const std::string& message) { return Status::InvalidArgument(message); }

Result<int64_t> ParseCount(const std::string& name, const std::string& text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0) {
    return Usage(name + " wants a non-negative integer, got '" + text + "'");
  }
  return v;
}

Status SetFlag(Flags& f, const std::string& name, const std::string& value) {
  if (name == "--data-dir") {
    f.data_dir = value;
  } else if (name == "--config") {
    f.config_file = value;
  } else if (name == "--json") {
    f.json = true;
  } else if (name == "--output") {
    if (value != "text" && value != "json" && value != "jsonl") {
      return Usage("-o/--output takes text, json or jsonl, not '" + value + "'");
    }
    f.json = value != "text";
    f.json_lines = value == "jsonl";
  } else if (name == "--server") {
    f.server_url = value;
  } else if (name == "--api-key") {
    f.api_key = value;
  } else if (name == "--status") {
    f.status = value;
  } else if (name == "--type") {
    f.type = value;
  } else if (name == "--limit") {
    ASSIGN_OR_RETURN(f.limit, ParseCount(name, value));
  } else if (name == "--after") {
    ASSIGN_OR_RETURN(f.after, ParseCount(name, value));
  } else if (name == "--file") {
    f.file = value;
  } else if (name == "--all") {
    f.all = true;
  } else if (name == "--raw") {
    f.raw = true;
  } else if (name == "--reason") {
    f.reason = value;
  } else if (name == "--input") {
    f.input = value;
  }
  return Status::Ok();
}

// Cross-argument rules that the table cannot say.
Status CheckCombinations(const Flags& f, const FlagEnvironment& env) {
  engine::ExecutionStatus parsed;
  if (f.status && !engine::ParseExecutionStatus(*f.status, &parsed)) {
    return Usage("--status must be running, completed, failed, canceled or terminated");
  }
  if (f.command == "replay") {
    int sources = (f.args.empty() ? 0 : 1) + (f.file.empty() ? 0 : 1) + (f.all ? 1 : 0);
    if (sources != 1) return Usage("replay wants exactly one of ID, --file FILE or --all");
    if (f.status && !f.all) return Usage("replay: --status goes with --all");
  }
  if (f.command == "fail" && (!f.reason || f.reason->empty())) {
    return Usage("fail needs --reason TEXT (it is recorded in the history)");
  }
  if (f.command == "terminate" && (!f.reason || f.reason->empty())) {
    return Usage("terminate needs --reason TEXT (it is recorded in the history)");
  }
  if (!f.server_url.empty() && f.api_key.empty()) {
    return Usage("--server needs --api-key (or $PAPR_API_KEY)");
  }
  bool local = !(f.command == "replay" && !f.file.empty()) && !ServerMode(f);
  if (local && f.data_dir.empty() && f.config_file.empty() && !env.storage_configured) {
    return Usage(f.command +
                 " needs --data-dir DIR (the server's data directory) or --config FILE (the "
                 "server's config: storage.backend and its database)");
  }
  return Status::Ok();
}

}  // namespace

bool IsWriteCommand(const std::string& command) {
  return command == "terminate" || command == "cancel" || command == "signal" ||
         command == "retry";
}

bool ServerMode(const Flags& flags) {
  return IsWriteCommand(flags.command) && !flags.server_url.empty();
}

Result<Flags> ParseFlags(const std::vector<std::string>& argv, const FlagEnvironment& env) {
  Flags f;
  std::vector<std::string> positionals, flag_names, workflow_ids;
  for (size_t i = 0; i < argv.size(); ++i) {
    // Short forms, as temporal's CLI has them.
    const std::string& arg = argv[i] == "-o" ? "--output" : argv[i] == "-w" ? "--workflow-id" : argv[i];
    if (arg == "--help" || arg == "-h" || (positionals.empty() && arg == "help")) {
      f.help = true;
      return f;
    }
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      positionals.push_back(arg);
      continue;
    }
    std::string name = arg, value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    bool known = GlobalFlags().count(name) > 0;
    for (const auto& c : Commands())
      known = known || c.flags.count(name) > 0;
    if (!known) return Usage("unknown flag " + name);
    if (IsBoolFlag(name)) {
      if (has_value) return Usage(name + " takes no value");
    } else if (!has_value) {
      if (i + 1 >= argv.size()) return Usage(name + " needs a value");
      value = argv[++i];
    }
    if (name == "--workflow-id") workflow_ids.push_back(value);
    RETURN_IF_ERROR(SetFlag(f, name, value));
    flag_names.push_back(name);  // checked against the command below
  }
  if (positionals.empty()) return Usage("no command given");
  f.command = positionals[0];
  f.args.assign(positionals.begin() + 1, positionals.end());
  if (!workflow_ids.empty()) {
    if (workflow_ids.size() > 1 || !f.args.empty()) {
      return Usage("give the workflow id once: as -w/--workflow-id ID or as the argument");
    }
    f.args.insert(f.args.begin(), workflow_ids[0]);
  }
  const CommandSpec* spec = nullptr;
  for (const auto& c : Commands()) {
    if (f.command == c.name) spec = &c;
  }
  if (spec == nullptr) return Usage("unknown command '" + f.command + "'");
  for (const auto& name : flag_names) {
    if (GlobalFlags().count(name) == 0 && spec->flags.count(name) == 0) {
      return Usage(name + " does not apply to " + f.command);
    }
  }
  if (f.args.size() < spec->min_args || f.args.size() > spec->max_args) {
    std::string wanted = std::to_string(spec->min_args);
    if (spec->max_args != spec->min_args) wanted += " or " + std::to_string(spec->max_args);
    return Usage(f.command + " takes " + wanted + " argument(s), got " +
                 std::to_string(f.args.size()));
  }
  if (IsWriteCommand(f.command) && f.server_url.empty()) f.server_url = env.server_url;
  if (!f.server_url.empty() && f.api_key.empty()) f.api_key = env.api_key;
  RETURN_IF_ERROR(CheckCombinations(f, env));
  return f;
}

std::string UsageText() {
  return R"(usage: engine-admin COMMAND [ARGS] [--data-dir DIR] [--config FILE] [--json]
       engine-admin WRITE-COMMAND [ARGS] --server URL --api-key KEY [--json]

Operator CLI of papr-server's embedded workflow engine. It opens the database the server's
config selects (storage.backend): RocksDB in DIR/db (DIR: --data-dir, else storage.data_dir),
or PostgreSQL at storage.postgres.url ($PAPR_STORAGE_BACKEND, $PAPR_DATABASE_URL override
them, as for the server). Read commands work while the server runs.

Read commands (read a snapshot of the database):
  list [--status S] [--type T] [--limit N]   executions, oldest first per status
  describe ID                                state, progress, failures, timers, history size
  history ID [--after N] [--limit N] [--raw] one event per line, payloads decoded (--json:
                                             papr.history/v1; --raw: payloads as bytes)
  export ID [--raw]                          the history as papr.history/v1 JSON on stdout
  replay ID | --file FILE | --all [--status S]
                                             replays histories against this build's workflow
                                             code; exit 1 on the first non-determinism
  stats                                      executions by status, events, disk use
  nodes                                      cluster mode: each node, its heartbeat's age,
                                             whether it is live, the shards it holds
  shards                                     cluster mode: each shard's owner, range_id,
                                             lease left and open executions

Write commands: server mode with --server URL --api-key KEY (through the running server's
admin endpoints; the key's user must own the workflow), else direct mode (opens the
database; the server must be stopped: refused while it holds the RocksDB directory, or
while any papr-server is connected to the PostgreSQL database). The output says which
(mode: server | direct).
  terminate ID --reason TEXT                 ends the execution (and its open children)
  cancel ID [--reason TEXT]                  requests cancellation (the workflow winds down:
                                             in-flight memories finish first)
  signal ID NAME [--input JSON]              records a signal
  retry ID                                   starts a new batch with the failed memories of
                                             a finished batch (direct mode: it runs when the
                                             server starts)

Repair commands, direct mode only (server stopped), for an open execution the server could
not resume (its history has an event that does not decode, a gap, or does not replay with
this build's code; `replay --all --status running` lists them, `describe` says why):
  reset ID                                   cuts the history back to the longest prefix
                                             that replays and leaves it open: the server
                                             resumes it from there (cut activities re-run)
  fail ID --reason TEXT                      closes it as failed (WorkflowExecutionFailed)

Flags:
  --data-dir DIR       the server's data directory (RocksDB; overrides storage.data_dir)
  --config FILE        the server's config file (default: $PAPR_CONFIG, else built-in
                       defaults): its storage.* names the database, and replay and write
                       commands run the workflow code with it, so pass the server's file.
                       One of the two (or $PAPR_DATA_DIR / $PAPR_STORAGE_BACKEND) is
                       required except for replay --file and server mode
  --json               machine-readable output (the same as -o json)
  -o, --output FORMAT  text (default), json, or jsonl (one line per listed item)
  -w, --workflow-id ID the command's workflow id, instead of the ID argument
  --server URL --api-key K
                       write commands go through the running server at URL (default:
                       $PAPR_SERVER, $PAPR_API_KEY); read commands stay local

Exit codes: 0 ok, 1 command failed or replay mismatch, 2 usage error.
)";
}

}  // namespace papr::engine_admin
