// engine-admin: the operator CLI of papr-server's embedded workflow engine. See README.md in
// this directory (commands, modes, the papr.history/v1 format, exit codes).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/log.h"
#include "tools/engine_admin/admin_flags.h"
#include "tools/engine_admin/commands.h"
#include "tools/engine_admin/text_util.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// One line: control bytes in messages (newlines, binary payloads quoted by the engine) are
// escaped.
int Fail(int code, const std::string& message) {
  std::string line = papr::engine_admin::Printable(message);
  std::fprintf(stderr, "engine-admin: %s\n", line.c_str());
  return code;
}

bool WriteAll(const std::string& text) {
  return std::fwrite(text.data(), 1, text.size(), stdout) == text.size() &&
         std::fflush(stdout) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  // The engine's info lines (recovery, closed workflows) would drown the output on stderr.
  papr::log::SetLevel(papr::log::Level::kWarn);
  std::vector<std::string> args(argv + 1, argv + argc);
  papr::engine_admin::FlagEnvironment env;
  if (const char* v = std::getenv("PAPR_SERVER")) env.server_url = v;
  if (const char* v = std::getenv("PAPR_API_KEY")) env.api_key = v;
  for (const char* name : {"PAPR_CONFIG", "PAPR_DATA_DIR", "PAPR_STORAGE_BACKEND"}) {
    const char* v = std::getenv(name);
    env.storage_configured = env.storage_configured || (v != nullptr && *v != '\0');
  }
  auto flags = papr::engine_admin::ParseFlags(args, env);
  if (!flags.ok()) {
    return Fail(kExitUsage, flags.status().message() + " (engine-admin --help for usage)");
  }
  if (flags->help) {
    std::fputs(papr::engine_admin::UsageText().c_str(), stdout);
    return kExitOk;
  }
  auto out = papr::engine_admin::RunCommand(*flags);
  if (!out.ok()) return Fail(kExitFailed, out.status().message());
  if (flags->json_lines) out->text = papr::engine_admin::JsonLines(out->text);
  if (!WriteAll(out->text)) return Fail(kExitFailed, "cannot write to stdout");
  return out->exit_code;
}
