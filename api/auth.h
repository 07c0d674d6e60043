#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "net/http_types.h"

namespace papr::api {

//! Maps an API key (X-API-Key or Authorization: Bearer) to its user. Keys are compared in
//! constant time against every configured key, so timing tells nothing. Thread-safe.
class Authenticator {
 public:
  explicit Authenticator(std::vector<config::ApiKey> keys);
  // The user id, or nullopt for a missing/unknown key.
  std::optional<std::string> Authenticate(const net::HttpRequest& request) const;

 private:
  std::vector<config::ApiKey> keys_;
};

}  // namespace papr::api
