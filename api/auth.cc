#include "api/auth.h"

#include "common/crypto.h"

namespace papr::api {

Authenticator::Authenticator(std::vector<config::ApiKey> keys) : keys_(std::move(keys)) {}

std::optional<std::string> Authenticator::Authenticate(const net::HttpRequest& request) const {
  std::string_view presented = request.Header("x-api-key");
  if (presented.empty()) {
    std::string_view auth = request.Header("authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.size() > kBearer.size() && auth.substr(0, kBearer.size()) == kBearer) {
      presented = auth.substr(kBearer.size());
    }
  }
  if (presented.empty()) return std::nullopt;
  std::optional<std::string> user;
  for (const auto& key : keys_) {
    // No early exit: every key is compared.
    if (ConstantTimeEquals(key.key, presented) && !user) user = key.user_id;
  }
  return user;
}

}  // namespace papr::api
