#pragma once

#include <optional>
#include <string>

#include "common/status.h"

namespace papr::net {

// The SSRF guard's allow-list view: an address is public only if it is global unicast, i.e.
// in no block of the IANA IPv4 and IPv6 Special-Purpose Address Registries (including the
// few anycast service blocks marked globally reachable: no webhook receiver lives there), not
// multicast, and for IPv6 inside 2000::/3. IPv4 embedded in IPv6 (IPv4-mapped ::ffff:0:0/96,
// IPv4-translated ::ffff:0:0:0/96, NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo 2001::/32 with
// its server and XOR-ed client address) is extracted and checked the same way.
//
// The name of the special-purpose block `ip` falls in (e.g. "loopback", "6to4 wrapping
// 10.0.0.0/8 private-use"), nullopt for a global unicast address; "unparsable" for text that
// is no IP address.
std::optional<std::string> SpecialPurposeBlock(const std::string& ip);

// True unless `ip` is a global unicast address (see above). Unparsable: true.
bool IsPrivateAddress(const std::string& ip);

// The SSRF guard for outbound calls to user-given URLs (webhooks): OK for global unicast
// addresses, and for any address when `allow_private` is set; FailedPrecondition naming the
// block otherwise. The processing endpoint is operator configuration and is not checked.
Status CheckOutboundAddress(const std::string& ip, bool allow_private);

}  // namespace papr::net
