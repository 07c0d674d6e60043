// YAML text through config::LoadConfigFromString and Validate, as papr-server loads its
// config file: every failure must be an InvalidArgument (load) or InvalidArgument /
// FailedPrecondition (validate) with a message; nothing may throw.
#include <string>

#include "config/config.h"
#include "fuzz/fuzz_checks.h"

namespace papr::fuzz {

std::string CheckConfig(std::string_view input) {
  Result<config::Config> loaded = config::LoadConfigFromString(std::string(input), "fuzz.yaml");
  if (!loaded.ok()) {
    if (loaded.status().code() != StatusCode::kInvalidArgument) {
      return "load failed with a code other than InvalidArgument: " + loaded.status().ToString();
    }
    if (loaded.status().message().empty()) return "load failed without a message";
    return "";
  }
  for (bool built_with_engine : {false, true}) {
    Status valid = config::Validate(*loaded, built_with_engine);
    if (valid.ok()) continue;
    if (valid.code() != StatusCode::kInvalidArgument &&
        valid.code() != StatusCode::kFailedPrecondition) {
      return "Validate failed with an unexpected code: " + valid.ToString();
    }
    if (valid.message().empty()) return "Validate failed without a message";
  }
  // Environment overrides on a loaded config keep it loadable and never crash.
  config::Config overridden = *loaded;
  config::ApplyEnvOverrides(overridden, [](const char* name) -> const char* {
    return std::string_view(name) == "PAPR_API_KEY" ? "fuzz-key" : nullptr;
  });
  (void)config::Validate(overridden, true);
  return "";
}

}  // namespace papr::fuzz
