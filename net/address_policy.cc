#include "net/address_policy.h"

#include <boost/asio/ip/address.hpp>

namespace papr::net {
namespace {

bool IsPrivateV4(const boost::asio::ip::address_v4& a) {
  auto b = a.to_bytes();
  if (a.is_loopback() || a.is_unspecified() || a.is_multicast()) return true;
  if (b[0] == 10 || b[0] == 0) return true;
  if (b[0] == 172 && (b[1] & 0xf0) == 16) return true;
  if (b[0] == 192 && b[1] == 168) return true;
  if (b[0] == 169 && b[1] == 254) return true;        // link-local
  if (b[0] == 100 && (b[1] & 0xc0) == 64) return true;  // carrier-grade NAT
  if (b[0] >= 240) return true;                        // reserved, broadcast
  return false;
}

}  // namespace

bool IsPrivateAddress(const std::string& ip) {
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(ip, ec);
  if (ec) return true;
  if (addr.is_v4()) return IsPrivateV4(addr.to_v4());
  auto v6 = addr.to_v6();
  if (v6.is_v4_mapped()) {
    return IsPrivateV4(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6));
  }
  auto b = v6.to_bytes();
  bool v4_compatible = true;
  for (int i = 0; i < 12; ++i) v4_compatible = v4_compatible && b[i] == 0;
  if (v4_compatible) {
    boost::asio::ip::address_v4::bytes_type v4{b[12], b[13], b[14], b[15]};
    return IsPrivateV4(boost::asio::ip::address_v4(v4));
  }
  if (v6.is_loopback() || v6.is_unspecified() || v6.is_multicast() || v6.is_link_local() ||
      v6.is_site_local()) {
    return true;
  }
  return (b[0] & 0xfe) == 0xfc;  // unique local fc00::/7
}

Status CheckOutboundAddress(const std::string& ip, bool allow_private) {
  if (allow_private || !IsPrivateAddress(ip)) return Status::Ok();
  return Status::FailedPrecondition(
      "webhook target resolves to a private or loopback address (" + ip +
      "); set webhooks.allow_private_targets to allow it");
}

}  // namespace papr::net
