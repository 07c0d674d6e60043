// URL validation (net/url.h) and the SSRF address policy (net/address_policy.h) on any bytes:
// what ParseUrl accepts must be safe for a request line and a Host header, and parse again to
// the same parts; SpecialPurposeBlock must answer for any host text.
#include <string>

#include "fuzz/fuzz_checks.h"
#include "net/address_policy.h"
#include "net/url.h"

namespace papr::fuzz {
namespace {

bool SafeOnTheWire(const std::string& s) {
  for (char c : s) {
    auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b >= 0x7f) return false;  // controls, space, DEL, non-ASCII
  }
  return true;
}

// The URL printed back from its parts.
std::string Rebuild(const net::Url& u) {
  std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  return u.scheme + "://" + host + ":" + u.port + u.target;
}

}  // namespace

std::string CheckUrl(std::string_view input) {
  (void)net::SpecialPurposeBlock(std::string(input));
  auto url = net::ParseUrl(input);
  if (!url.ok()) {
    if (url.status().code() != StatusCode::kInvalidArgument) return "refusal is not InvalidArgument";
    return "";
  }
  if (input.size() > net::kMaxUrlBytes) return "accepted a URL over kMaxUrlBytes";
  if (!SafeOnTheWire(url->host) || !SafeOnTheWire(url->target) || !SafeOnTheWire(url->port)) {
    return "accepted a URL whose host, port or target holds a control byte, space or non-ASCII";
  }
  if (url->scheme != "http" && url->scheme != "https") return "accepted another scheme";
  if (url->target.empty() || url->target[0] != '/') return "target does not start with '/'";
  if (url->host.empty()) return "empty host";
  if (url->host.find('@') != std::string::npos) return "credentials in the host";
  int port = std::stoi(url->port);
  if (port < 1 || port > 65535) return "port out of range";
  (void)net::SpecialPurposeBlock(url->host);
  std::string again = Rebuild(*url);
  auto reparsed = net::ParseUrl(again);
  if (again.size() <= net::kMaxUrlBytes + 16 && reparsed.ok() &&
      (reparsed->host != url->host || reparsed->port != url->port ||
       reparsed->target != url->target)) {
    return "parts printed back parse to other parts: " + again;
  }
  if (!reparsed.ok() && again.size() <= net::kMaxUrlBytes) {
    return "parts printed back do not parse: " + again;
  }
  return "";
}

}  // namespace papr::fuzz
