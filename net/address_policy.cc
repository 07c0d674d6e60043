// The special-purpose blocks, one table per family, from the IANA registries
// (iana-ipv4-special-registry, iana-ipv6-special-registry) as of 2024, plus multicast.
#include "net/address_policy.h"

#include <array>
#include <cstdint>
#include <string_view>

#include <boost/asio/ip/address.hpp>

namespace papr::net {
namespace {

//! One IPv4 block: first address (host order) and prefix length.
struct V4Block {
  uint32_t base;
  int prefix;
  std::string_view name;
};

constexpr uint32_t V4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

constexpr std::array kV4Blocks = {
    V4Block{V4(0, 0, 0, 0), 8, "0.0.0.0/8 this network"},
    V4Block{V4(10, 0, 0, 0), 8, "10.0.0.0/8 private-use"},
    V4Block{V4(100, 64, 0, 0), 10, "100.64.0.0/10 shared address space (CGN)"},
    V4Block{V4(127, 0, 0, 0), 8, "127.0.0.0/8 loopback"},
    V4Block{V4(169, 254, 0, 0), 16, "169.254.0.0/16 link-local"},
    V4Block{V4(172, 16, 0, 0), 12, "172.16.0.0/12 private-use"},
    V4Block{V4(192, 0, 0, 0), 24, "192.0.0.0/24 IETF protocol assignments"},
    V4Block{V4(192, 0, 2, 0), 24, "192.0.2.0/24 documentation (TEST-NET-1)"},
    V4Block{V4(192, 31, 196, 0), 24, "192.31.196.0/24 AS112-v4"},
    V4Block{V4(192, 52, 193, 0), 24, "192.52.193.0/24 AMT"},
    V4Block{V4(192, 88, 99, 0), 24, "192.88.99.0/24 deprecated 6to4 relay anycast"},
    V4Block{V4(192, 168, 0, 0), 16, "192.168.0.0/16 private-use"},
    V4Block{V4(192, 175, 48, 0), 24, "192.175.48.0/24 direct delegation AS112 service"},
    V4Block{V4(198, 18, 0, 0), 15, "198.18.0.0/15 benchmarking"},
    V4Block{V4(198, 51, 100, 0), 24, "198.51.100.0/24 documentation (TEST-NET-2)"},
    V4Block{V4(203, 0, 113, 0), 24, "203.0.113.0/24 documentation (TEST-NET-3)"},
    V4Block{V4(224, 0, 0, 0), 4, "224.0.0.0/4 multicast"},
    V4Block{V4(240, 0, 0, 0), 4, "240.0.0.0/4 reserved (and 255.255.255.255 broadcast)"},
};

// What to do with an IPv6 block: refuse it, or check an IPv4 address embedded in it.
enum class V6Rule { kRefuse, kLast32Bits, kSixToFour, kTeredo };

//! One IPv6 block: the first bytes of its prefix (the rest zero) and its length.
struct V6Block {
  std::array<uint8_t, 16> base;
  int prefix;
  V6Rule rule;
  std::string_view name;
};

using B = std::array<uint8_t, 16>;

// Most specific first: the first match wins.
const std::array kV6Blocks = {
    V6Block{B{}, 128, V6Rule::kRefuse, "::/128 unspecified"},
    V6Block{B{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, V6Rule::kRefuse,
            "::1/128 loopback"},
    V6Block{B{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96, V6Rule::kLast32Bits,
            "::ffff:0:0/96 IPv4-mapped"},
    V6Block{B{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0}, 96, V6Rule::kLast32Bits,
            "::ffff:0:0:0/96 IPv4-translated"},
    V6Block{B{0, 0x64, 0xff, 0x9b}, 96, V6Rule::kLast32Bits, "64:ff9b::/96 NAT64"},
    V6Block{B{0, 0x64, 0xff, 0x9b, 0, 1}, 48, V6Rule::kRefuse,
            "64:ff9b:1::/48 local-use NAT64"},
    V6Block{B{0x01, 0x00}, 64, V6Rule::kRefuse, "100::/64 discard-only"},
    V6Block{B{0x20, 0x01, 0, 0}, 32, V6Rule::kTeredo, "2001::/32 Teredo"},
    V6Block{B{0x20, 0x01, 0x00, 0x00}, 23, V6Rule::kRefuse, "2001::/23 IETF protocol assignments"},
    V6Block{B{0x20, 0x01, 0x0d, 0xb8}, 32, V6Rule::kRefuse, "2001:db8::/32 documentation"},
    V6Block{B{0x20, 0x02}, 16, V6Rule::kSixToFour, "2002::/16 6to4"},
    V6Block{B{0x26, 0x20, 0x00, 0x4f, 0x80, 0x00}, 48, V6Rule::kRefuse,
            "2620:4f:8000::/48 direct delegation AS112 service"},
    V6Block{B{0x3f, 0xff}, 20, V6Rule::kRefuse, "3fff::/20 documentation"},
    V6Block{B{0x5f, 0x00}, 16, V6Rule::kRefuse, "5f00::/16 segment routing SIDs"},
    V6Block{B{0xfc}, 7, V6Rule::kRefuse, "fc00::/7 unique-local"},
    V6Block{B{0xfe, 0x80}, 10, V6Rule::kRefuse, "fe80::/10 link-local"},
    V6Block{B{0xff}, 8, V6Rule::kRefuse, "ff00::/8 multicast"},
};

bool InV6Block(const std::array<uint8_t, 16>& a, const V6Block& block) {
  for (int bit = 0; bit < block.prefix; ++bit) {
    int byte = bit / 8, shift = 7 - bit % 8;
    if (((a[byte] >> shift) & 1) != ((block.base[byte] >> shift) & 1)) return false;
  }
  return true;
}

uint32_t V4At(const std::array<uint8_t, 16>& a, int offset) {
  return (uint32_t{a[offset]} << 24) | (uint32_t{a[offset + 1]} << 16) |
         (uint32_t{a[offset + 2]} << 8) | a[offset + 3];
}

std::optional<std::string> V4Special(uint32_t a) {
  for (const V4Block& block : kV4Blocks) {
    uint32_t mask = block.prefix == 0 ? 0 : ~uint32_t{0} << (32 - block.prefix);
    if ((a & mask) == block.base) return std::string(block.name);
  }
  return std::nullopt;
}

// An embedded IPv4 address: the wrapper's name plus the IPv4 block, if any.
std::optional<std::string> Wrapped(std::string_view wrapper, uint32_t v4) {
  auto inner = V4Special(v4);
  if (!inner) return std::nullopt;
  return std::string(wrapper) + " wrapping " + *inner;
}

std::optional<std::string> V6Special(const std::array<uint8_t, 16>& a) {
  for (const V6Block& block : kV6Blocks) {
    if (!InV6Block(a, block)) continue;
    switch (block.rule) {
      case V6Rule::kRefuse: return std::string(block.name);
      case V6Rule::kLast32Bits: return Wrapped(block.name, V4At(a, 12));
      case V6Rule::kSixToFour: return Wrapped(block.name, V4At(a, 2));
      case V6Rule::kTeredo:  // 2001:0:SERVER:flags:port:CLIENT, client inverted (RFC 4380)
        if (auto server = Wrapped("Teredo server", V4At(a, 4))) return server;
        return Wrapped("Teredo client", V4At(a, 12) ^ 0xffffffffu);
    }
  }
  if ((a[0] & 0xe0) != 0x20) return std::string("outside 2000::/3 global unicast");
  return std::nullopt;
}

}  // namespace

std::optional<std::string> SpecialPurposeBlock(const std::string& ip) {
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(ip, ec);
  if (ec) return std::string("unparsable");
  if (addr.is_v4()) return V4Special(addr.to_v4().to_uint());
  auto v6 = addr.to_v6();
  if (v6.scope_id() != 0) return std::string("scoped (zone) address");
  return V6Special(v6.to_bytes());
}

bool IsPrivateAddress(const std::string& ip) { return SpecialPurposeBlock(ip).has_value(); }

Status CheckOutboundAddress(const std::string& ip, bool allow_private) {
  if (allow_private) return Status::Ok();
  auto block = SpecialPurposeBlock(ip);
  if (!block) return Status::Ok();
  return Status::FailedPrecondition(
      "webhook target resolves to a non-public address (" + ip + ", " + *block +
      "); set webhooks.allow_private_targets to allow it");
}

}  // namespace papr::net
