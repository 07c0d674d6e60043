// Validate(): minimums come from the key table; the rules that span fields or parse a
// value (listen address, URLs, api keys, the engine) are written out here.
#include <algorithm>
#include <set>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/plans.h"
#include "config/internal/config_keys.h"

namespace papr::config {
namespace internal {

std::optional<std::string> ApiKeyProblem(const ApiKey& api_key) {
  if (api_key.key.empty()) return "key must not be empty";
  if (api_key.user_id.empty()) return "user_id must not be empty";
  if (api_key.user_id.find('/') != std::string::npos) return "user_id must not contain '/'";
  if (api_key.user_id.find('\0') != std::string::npos) return "user_id must not contain NUL";
  return std::nullopt;
}

}  // namespace internal

namespace {

bool IsPort(std::string_view text) {
  if (text.empty() || text.size() > 5) return false;
  int port = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    port = port * 10 + (c - '0');
  }
  return port <= 65535;
}

// HOST:PORT, HOST a name, an IPv4 address or a bracketed IPv6 address ("[::1]:8080").
bool IsListenAddress(std::string_view listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  if (!IsPort(listen.substr(colon + 1))) return false;
  std::string_view host = listen.substr(0, colon);
  if (host.front() == '[') return host.size() > 2 && host.back() == ']';
  return host.find_first_of(":[] /") == std::string_view::npos;
}

bool IsHttpUrl(std::string_view url) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url.starts_with(scheme) && url.size() > scheme.size()) return true;
  }
  return false;
}

// Checks each int key (and each item of a list<int> key) against the table's minimum.
void CheckMinimums(Config& config, std::vector<std::string>& errors) {
  using internal::FieldRef;
  for (const internal::KeySpec& spec : internal::KeySpecs()) {
    if (!spec.min.has_value()) continue;
    const int64_t min = *spec.min;
    const std::string path = spec.path;
    if (auto* f = std::get_if<FieldRef<int64_t>>(&spec.field)) {
      if ((*f)(config) < min) {
        errors.push_back(path + " must be >= " + std::to_string(min) + ", got " +
                         std::to_string((*f)(config)));
      }
    } else if (auto* d = std::get_if<FieldRef<double>>(&spec.field)) {
      if (!((*d)(config) >= static_cast<double>(min))) {
        errors.push_back(path + " must be >= " + std::to_string(min) + ", got " +
                         std::to_string((*d)(config)));
      }
    } else if (auto* l = std::get_if<FieldRef<std::vector<int64_t>>>(&spec.field)) {
      for (int64_t v : (*l)(config)) {
        if (v < min) {
          errors.push_back(path + " items must be >= " + std::to_string(min) + ", got " +
                           std::to_string(v));
          break;
        }
      }
    }
  }
}

void CheckApiKeys(const Auth& auth, std::vector<std::string>& errors) {
  std::set<std::string_view> keys;
  for (size_t i = 0; i < auth.api_keys.size(); ++i) {
    const ApiKey& api_key = auth.api_keys[i];
    const std::string path = "auth.api_keys[" + std::to_string(i) + "]";
    if (auto problem = internal::ApiKeyProblem(api_key)) {
      errors.push_back(path + "." + *problem);
    } else if (!keys.insert(api_key.key).second) {
      // The key itself is a secret: never put it in a message.
      errors.push_back(path + ".key is a duplicate of an earlier api key");
    }
  }
}

void CheckStorage(const Storage& storage, std::vector<std::string>& errors) {
  if (storage.backend != "rocksdb" && storage.backend != "postgres") {
    errors.push_back("storage.backend must be 'rocksdb' or 'postgres', got '" + storage.backend +
                     "'");
  }
  const std::string& url = storage.postgres.url;
  if (storage.backend == "postgres" && url.empty()) {
    errors.push_back("storage.postgres.url (or PAPR_DATABASE_URL) must be set when "
                     "storage.backend is 'postgres'");
  }
  if (url.find_first_of(std::string_view("\0\n\r", 3)) != std::string::npos) {
    errors.push_back("storage.postgres.url must not contain NUL or line breaks");
  }
}

void CheckCluster(const Config& config, std::vector<std::string>& errors) {
  const Cluster& c = config.cluster;
  if (!c.enabled) return;
  if (config.storage.backend != "postgres") {
    errors.push_back("cluster.enabled needs storage.backend 'postgres' (the nodes share its "
                     "database), got '" + config.storage.backend + "'");
  }
  if (!config.features.has_temporal) {
    errors.push_back("cluster.enabled needs features.has_temporal (nodes share durable batches)");
  }
  if (c.shards > 4096) {
    errors.push_back("cluster.shards must be <= 4096, got " + std::to_string(c.shards));
  }
  if (c.lease_ttl_ms < 2 * c.heartbeat_interval_ms) {
    errors.push_back("cluster.lease_ttl_ms must be at least twice cluster.heartbeat_interval_ms");
  }
  const std::pair<const char*, const std::string*> names[] = {
      {"cluster.node_id", &c.node_id}, {"cluster.advertise_address", &c.advertise_address}};
  for (const auto& [path, value] : names) {
    bool printable = std::all_of(value->begin(), value->end(),
                                 [](unsigned char ch) { return ch > 0x20 && ch < 0x7f; });
    if (!printable || value->size() > 128) {
      errors.push_back(std::string(path) + " must be at most 128 printable ASCII characters "
                       "without spaces");
    }
  }
}

void CheckValues(const Config& config, std::vector<std::string>& errors) {
  if (config.edition != "opensource" && config.edition != "cloud") {
    errors.push_back("edition must be 'opensource' or 'cloud', got '" + config.edition + "'");
  }
  if (config.webhooks.retry_schedule_seconds.empty()) {
    errors.push_back("webhooks.retry_schedule_seconds must not be empty");
  }
  const std::string& level = config.logging.level;
  if (level != "debug" && level != "info" && level != "warn" && level != "error") {
    errors.push_back("logging.level must be debug, info, warn or error, got '" + level + "'");
  }
  if (!IsListenAddress(config.server.listen)) {
    errors.push_back("server.listen must be HOST:PORT with a port in 0..65535, got '" +
                     config.server.listen + "'");
  }
  const std::string& endpoint = config.processing.endpoint;
  if (!endpoint.empty() && !IsHttpUrl(endpoint)) {
    errors.push_back("processing.endpoint must be empty or an http:// or https:// URL, got '" +
                     endpoint + "'");
  }
  CheckStorage(config.storage, errors);
  CheckCluster(config, errors);
  CheckApiKeys(config.auth, errors);
  for (std::string& problem : PlanProblems(config)) errors.push_back(std::move(problem));
}

}  // namespace

Status Validate(const Config& config, bool built_with_engine) {
  if (config.features.has_temporal && !built_with_engine) {
    return Status::FailedPrecondition(
        "features.has_temporal is true but this build has no workflow engine (built with "
        "-DPAPR_WITH_ENGINE=OFF); use config/opensource.yaml or a build with the engine");
  }
  std::vector<std::string> errors;
  Config copy = config;  // The table's accessors take a mutable Config; this one is read only.
  CheckMinimums(copy, errors);
  CheckValues(config, errors);
  if (errors.empty()) return Status::Ok();
  std::string message = "invalid config: " + errors[0];
  for (size_t i = 1; i < errors.size(); ++i)
    message += "; " + errors[i];
  return Status::InvalidArgument(message);
}

}  // namespace papr::config
