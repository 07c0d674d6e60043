// papr-server: the memory service. See README.md for flags and configuration.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>

#include "api/app.h"
#include "common/crypto.h"
#include "common/log.h"
#include "common/memory_release.h"
#include "common/stop_signals.h"
#include "config/config.h"

namespace {

void Usage() {
  std::fprintf(stderr,
               "usage: papr-server [--config FILE] [--data-dir DIR] [--listen HOST:PORT]\n"
               "  env: PAPR_CONFIG, PAPR_DATA_DIR, PAPR_LISTEN, PAPR_API_KEY\n"
               "  papr-server --print-config-keys   prints the config key table (Markdown)\n");
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "papr-server: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path, data_dir, listen;
  if (const char* env = std::getenv("PAPR_CONFIG")) config_path = env;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    if (arg == "--config" && next(&config_path)) continue;
    if (arg == "--data-dir" && next(&data_dir)) continue;
    if (arg == "--listen" && next(&listen)) continue;
    if (arg == "--print-config-keys") {
      std::cout << papr::config::KeysMarkdownTable();
      return 0;
    }
    Usage();
    return arg == "--help" || arg == "-h" ? 0 : 2;
  }
  auto loaded = config_path.empty() ? papr::config::LoadConfigFromString("", "<defaults>")
                                    : papr::config::LoadConfigFromFile(config_path);
  if (!loaded.ok()) return Fail(loaded.status().message());
  papr::config::Config config = std::move(loaded).value();
  papr::config::ApplyEnvOverrides(config, [](const char* name) { return std::getenv(name); });
  if (!data_dir.empty()) config.storage.data_dir = data_dir;
  if (!listen.empty()) config.server.listen = listen;
  papr::Status valid = papr::config::Validate(config, PAPR_WITH_ENGINE != 0);
  if (!valid.ok()) return Fail(valid.message());
  papr::log::Level level = papr::log::Level::kInfo;
  papr::log::ParseLevel(config.logging.level, &level);
  papr::log::SetLevel(level);
  if (config.auth.api_keys.empty()) {
    std::string key = "dev-" + papr::RandomHexId();
    config.auth.api_keys.push_back({key, "default"});
    std::fprintf(stderr,
                 "papr-server: no API keys configured; generated a development key for user "
                 "'default': %s\n",
                 key.c_str());
  }

  papr::LimitMallocArenas(static_cast<int>(config.server.malloc_arenas));  // before threads
  papr::StopSignals stop_signals;  // before any thread starts
  std::optional<papr::IdleMemoryReleaser> releaser;
  if (config.server.release_memory_interval_ms > 0) {
    releaser.emplace(std::chrono::milliseconds(config.server.release_memory_interval_ms));
  }

  auto app = papr::api::App::Create(config);
  if (!app.ok()) return Fail(app.status().message());
  auto port = (*app)->Listen();
  if (!port.ok()) return Fail(port.status().message());
  std::string host = config.server.listen.substr(0, config.server.listen.rfind(':'));
  std::printf("listening on http://%s:%d\n", host.c_str(), *port);
  std::fflush(stdout);
  // Requests are accepted from here on; writes wait (503 + Retry-After) for recovery.
  papr::Status recovered = (*app)->Recover();
  if (!recovered.ok()) return Fail(recovered.message());
  papr::log::Info("started", {{"edition", config.edition},
                              {"durable", config.features.has_temporal ? "true" : "false"},
                              {"port", std::to_string(*port)},
                              {"data_dir", config.storage.data_dir}});

  int received = stop_signals.Wait();
  papr::log::Info("stopping", {{"signal", strsignal(received)}});
  (*app)->Stop();
  return 0;
}
