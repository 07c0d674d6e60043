#include "net/address_policy.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace papr::net {
namespace {

//! One entry of an IANA special-purpose registry: its first and last address.
struct RegistryEntry {
  const char* first;
  const char* last;
  const char* block;
};

// Every entry of the IANA IPv4 Special-Purpose Address Registry, plus multicast and broadcast.
const std::vector<RegistryEntry> kIpv4Registry = {
    {"0.0.0.0", "0.255.255.255", "0.0.0.0/8"},
    {"0.0.0.0", "0.0.0.0", "0.0.0.0/32"},
    {"10.0.0.0", "10.255.255.255", "10.0.0.0/8"},
    {"100.64.0.0", "100.127.255.255", "100.64.0.0/10"},
    {"127.0.0.0", "127.255.255.255", "127.0.0.0/8"},
    {"169.254.0.0", "169.254.255.255", "169.254.0.0/16"},
    {"172.16.0.0", "172.31.255.255", "172.16.0.0/12"},
    {"192.0.0.0", "192.0.0.255", "192.0.0.0/24"},
    {"192.0.0.0", "192.0.0.7", "192.0.0.0/29"},
    {"192.0.0.8", "192.0.0.8", "192.0.0.8/32"},
    {"192.0.0.9", "192.0.0.9", "192.0.0.9/32"},
    {"192.0.0.10", "192.0.0.10", "192.0.0.10/32"},
    {"192.0.0.170", "192.0.0.170", "192.0.0.170/32"},
    {"192.0.0.171", "192.0.0.171", "192.0.0.171/32"},
    {"192.0.2.0", "192.0.2.255", "192.0.2.0/24"},
    {"192.31.196.0", "192.31.196.255", "192.31.196.0/24"},
    {"192.52.193.0", "192.52.193.255", "192.52.193.0/24"},
    {"192.88.99.0", "192.88.99.255", "192.88.99.0/24"},
    {"192.168.0.0", "192.168.255.255", "192.168.0.0/16"},
    {"192.175.48.0", "192.175.48.255", "192.175.48.0/24"},
    {"198.18.0.0", "198.19.255.255", "198.18.0.0/15"},
    {"198.51.100.0", "198.51.100.255", "198.51.100.0/24"},
    {"203.0.113.0", "203.0.113.255", "203.0.113.0/24"},
    {"240.0.0.0", "255.255.255.254", "240.0.0.0/4"},
    {"255.255.255.255", "255.255.255.255", "255.255.255.255/32"},
    {"224.0.0.0", "239.255.255.255", "224.0.0.0/4 multicast"},
};

// Every entry of the IANA IPv6 Special-Purpose Address Registry, plus multicast.
const std::vector<RegistryEntry> kIpv6Registry = {
    {"::1", "::1", "::1/128"},
    {"::", "::", "::/128"},
    {"::ffff:0.0.0.0", "::ffff:0.255.255.255", "::ffff:0:0/96 (wrapping 0/8)"},
    {"64:ff9b:1::", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "64:ff9b:1::/48"},
    {"100::", "100::ffff:ffff:ffff:ffff", "100::/64"},
    {"100:0:0:1::", "100:0:0:1:ffff:ffff:ffff:ffff", "100:0:0:1::/64"},
    {"2001::", "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", "2001::/23 (Teredo part checked below)"},
    {"2001:1::1", "2001:1::1", "2001:1::1/128"},
    {"2001:1::2", "2001:1::2", "2001:1::2/128"},
    {"2001:1::3", "2001:1::3", "2001:1::3/128"},
    {"2001:2::", "2001:2:0:ffff:ffff:ffff:ffff:ffff", "2001:2::/48"},
    {"2001:3::", "2001:3:ffff:ffff:ffff:ffff:ffff:ffff", "2001:3::/32"},
    {"2001:4:112::", "2001:4:112:ffff:ffff:ffff:ffff:ffff", "2001:4:112::/48"},
    {"2001:10::", "2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", "2001:10::/28"},
    {"2001:20::", "2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", "2001:20::/28"},
    {"2001:30::", "2001:3f:ffff:ffff:ffff:ffff:ffff:ffff", "2001:30::/28"},
    {"2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::/32"},
    {"2620:4f:8000::", "2620:4f:8000:ffff:ffff:ffff:ffff:ffff", "2620:4f:8000::/48"},
    {"3fff::", "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", "3fff::/20"},
    {"5f00::", "5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "5f00::/16"},
    {"fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fc00::/7"},
    {"fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::/10"},
    {"ff00::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ff00::/8 multicast"},
    {"::127.0.0.1", "::8.8.8.8", "deprecated IPv4-compatible (outside 2000::/3)"},
    {"fec0::1", "fec0::1", "deprecated site-local (outside 2000::/3)"},
};

TEST(AddressPolicyTest, EveryIpv4SpecialPurposeBlockIsRefused) {
  for (const auto& e : kIpv4Registry) {
    for (const char* ip : {e.first, e.last}) {
      EXPECT_TRUE(IsPrivateAddress(ip)) << ip << " in " << e.block;
      EXPECT_FALSE(CheckOutboundAddress(ip, false).ok()) << ip;
      EXPECT_TRUE(CheckOutboundAddress(ip, true).ok()) << ip;
    }
  }
}

TEST(AddressPolicyTest, EveryIpv6SpecialPurposeBlockIsRefused) {
  for (const auto& e : kIpv6Registry) {
    for (const char* ip : {e.first, e.last}) {
      EXPECT_TRUE(IsPrivateAddress(ip)) << ip << " in " << e.block;
    }
  }
}

// The IPv4 blocks reached through every IPv6 form that embeds an IPv4 address: IPv4-mapped,
// IPv4-translated, NAT64, 6to4 and both halves of Teredo.
std::vector<std::string> EmbeddingsOf(const std::string& v4, unsigned a, unsigned b, unsigned c,
                                      unsigned d) {
  char sixto4[64], teredo_client[96], teredo_server[96];
  std::snprintf(sixto4, sizeof(sixto4), "2002:%02x%02x:%02x%02x::1", a, b, c, d);
  std::snprintf(teredo_client, sizeof(teredo_client), "2001:0:0808:0808:0:0:%02x%02x:%02x%02x",
                a ^ 0xff, b ^ 0xff, c ^ 0xff, d ^ 0xff);
  std::snprintf(teredo_server, sizeof(teredo_server), "2001:0:%02x%02x:%02x%02x:0:0:f7f7:f7f7",
                a, b, c, d);
  return {"::ffff:" + v4, "::ffff:0:" + v4, "64:ff9b::" + v4, sixto4, teredo_client,
          teredo_server};
}

TEST(AddressPolicyTest, EmbeddedIpv4IsExtractedAndChecked) {
  struct V4 {
    unsigned a, b, c, d;
  };
  for (V4 v : {V4{127, 0, 0, 1}, V4{10, 1, 2, 3}, V4{169, 254, 169, 254}, V4{192, 168, 1, 1},
               V4{172, 16, 0, 1}, V4{100, 64, 0, 1}, V4{0, 0, 0, 0}, V4{192, 0, 0, 170},
               V4{198, 18, 0, 1}, V4{192, 0, 2, 1}, V4{198, 51, 100, 1}, V4{203, 0, 113, 1},
               V4{224, 0, 0, 1}, V4{255, 255, 255, 255}}) {
    std::string v4 = std::to_string(v.a) + "." + std::to_string(v.b) + "." +
                     std::to_string(v.c) + "." + std::to_string(v.d);
    for (const std::string& ip : EmbeddingsOf(v4, v.a, v.b, v.c, v.d)) {
      auto block = SpecialPurposeBlock(ip);
      EXPECT_TRUE(block.has_value()) << ip << " (wrapping " << v4 << ") passed as public";
      if (block) EXPECT_NE(block->find("wrapping"), std::string::npos) << ip << ": " << *block;
    }
  }
  // The same forms around a public IPv4 address are public.
  for (const std::string& ip : EmbeddingsOf("8.8.8.8", 8, 8, 8, 8)) {
    auto block = SpecialPurposeBlock(ip);
    EXPECT_FALSE(block.has_value()) << ip << ": " << *block;
  }
}

TEST(AddressPolicyTest, GlobalUnicastNeighboursOfTheBlocksArePublic) {
  for (const char* ip :
       {"8.8.8.8", "1.1.1.1", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0",
        "126.255.255.255", "128.0.0.0", "169.253.255.255", "169.255.0.0", "172.15.255.255",
        "172.32.0.0", "191.255.255.255", "192.0.1.0", "192.0.3.0", "192.88.98.255",
        "192.88.100.0", "192.167.255.255", "192.169.0.0", "198.17.255.255", "198.20.0.0",
        "198.51.99.255", "198.51.101.0", "203.0.112.255", "203.0.114.0", "223.255.255.255",
        "2001:4860:4860::8888", "2606:4700::1111", "2001:200::1", "2620:4f:8001::1",
        "2a00:1450::1", "3ffe::1", "::ffff:8.8.8.8"}) {
    auto block = SpecialPurposeBlock(ip);
    EXPECT_FALSE(block.has_value()) << ip << " refused as " << *block;
  }
}

TEST(AddressPolicyTest, UnparsableAndScopedAddressesCountAsPrivate) {
  for (const char* ip : {"", "localhost", "127.0.0.1.example.com", "999.1.1.1", "fe80::1::2",
                         "2001:4860::8888%1"}) {
    EXPECT_TRUE(IsPrivateAddress(ip)) << ip;
  }
}

TEST(AddressPolicyTest, CheckOutboundAddressRefusesPrivateUnlessAllowed) {
  Status refused = CheckOutboundAddress("127.0.0.1", /*allow_private=*/false);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("127.0.0.1"), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find("loopback"), std::string::npos) << refused.message();
  EXPECT_TRUE(CheckOutboundAddress("127.0.0.1", /*allow_private=*/true).ok());
  EXPECT_TRUE(CheckOutboundAddress("::ffff:10.0.0.1", /*allow_private=*/true).ok());
  EXPECT_TRUE(CheckOutboundAddress("8.8.8.8", /*allow_private=*/false).ok());
  EXPECT_EQ(CheckOutboundAddress("::ffff:10.0.0.1", false).code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace papr::net
