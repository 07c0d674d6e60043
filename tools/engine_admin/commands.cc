#include "tools/engine_admin/commands.h"

namespace papr::engine_admin {

Result<CommandOutput> RunCommand(const Flags& flags) {
  using Runner = Result<CommandOutput> (*)(const Flags&);
  static const std::pair<const char*, Runner> kRunners[] = {
      {"list", RunList},           {"describe", RunDescribe}, {"history", RunHistory},
      {"export", RunExport},       {"stats", RunStats},       {"replay", RunReplay},
      {"terminate", RunTerminate}, {"cancel", RunCancel},     {"signal", RunSignal},
      {"retry", RunRetry},         {"reset", RunReset},       {"fail", RunFail},
      {"nodes", RunNodes},         {"shards", RunShards},
  };
  for (const auto& [name, run] : kRunners) {
    if (flags.command == name) return run(flags);
  }
  return Status::InvalidArgument("unknown command '" + flags.command + "'");
}

}  // namespace papr::engine_admin
