#include "config/config.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "config/internal/config_keys.h"

namespace papr::config {

Result<Config> LoadConfigFromString(const std::string& yaml_text, const std::string& source_name) {
  Config config;
  RETURN_IF_ERROR(internal::ParseYamlInto(yaml_text, source_name, config));
  return config;
}

Result<Config> LoadConfigFromFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Status::NotFound("config file '" + path + "' does not exist");
  }
  if (std::filesystem::is_directory(path, ec)) {
    return Status::InvalidArgument("config file '" + path + "' is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::IoError("cannot read config file '" + path + "': " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IoError("cannot read config file '" + path + "'");
  return LoadConfigFromString(text.str(), path);
}

void ApplyEnvOverrides(Config& config, const std::function<const char*(const char*)>& getenv_fn) {
  auto get = [&](const char* name) -> std::string {
    const char* value = getenv_fn(name);
    return value == nullptr ? std::string() : std::string(value);
  };
  if (std::string dir = get("PAPR_DATA_DIR"); !dir.empty()) config.storage.data_dir = dir;
  if (std::string listen = get("PAPR_LISTEN"); !listen.empty()) config.server.listen = listen;
  if (std::string url = get("PAPR_DATABASE_URL"); !url.empty()) config.storage.postgres.url = url;
  if (std::string backend = get("PAPR_STORAGE_BACKEND"); !backend.empty()) {
    config.storage.backend = backend;  // validated like the config key
  }
  if (std::string key = get("PAPR_API_KEY"); !key.empty()) {
    for (const ApiKey& existing : config.auth.api_keys) {
      if (existing.key == key) return;  // Already configured (for whichever user).
    }
    config.auth.api_keys.push_back({key, "default"});
  }
}

}  // namespace papr::config
