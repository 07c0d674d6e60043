#pragma once

#include <string>
#include <string_view>

namespace papr {

// Thin OpenSSL wrappers. All are thread-safe.
std::string Sha256Hex(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);  // raw 32 bytes
std::string Base64Encode(std::string_view data);
// Returns false on malformed input.
bool Base64Decode(std::string_view b64, std::string* out);
// Random id: 16 bytes from the CSPRNG as 32 lowercase hex chars.
std::string RandomHexId();
// A UUID-shaped (8-4-4-4-12) id derived deterministically from `seed` (sha256).
std::string DeterministicUuid(std::string_view seed);
// A UUID-shaped random id.
std::string RandomUuid();
// Constant-time equality (keys, signatures).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace papr
