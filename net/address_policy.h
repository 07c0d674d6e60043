#pragma once

#include <string>

#include "common/status.h"

namespace papr::net {

// True for loopback, private (RFC 1918, fc00::/7), link-local, multicast, unspecified,
// carrier-grade NAT, and IPv4-mapped/compatible IPv6 forms of these. Unparsable: true.
bool IsPrivateAddress(const std::string& ip);

// The SSRF guard for outbound calls to user-given URLs: OK for public addresses, and for any
// address when `allow_private` is set; FailedPrecondition otherwise.
Status CheckOutboundAddress(const std::string& ip, bool allow_private);

}  // namespace papr::net
