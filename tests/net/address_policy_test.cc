#include "net/address_policy.h"

#include <string>

#include <gtest/gtest.h>

namespace papr::net {
namespace {

TEST(AddressPolicyTest, PrivateLoopbackLinkLocalAndSpecialAddressesArePrivate) {
  // clang-format off
  const char* kPrivate[] = {
      "127.0.0.1", "127.255.255.254", "10.0.0.1", "10.255.255.255", "172.16.0.1",
      "172.31.255.255", "192.168.0.1", "192.168.255.255", "169.254.169.254", "0.0.0.0",
      "224.0.0.1", "239.255.255.250", "100.64.0.1", "255.255.255.255", "::1", "::", "fe80::1",
      "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
      "::ffff:192.168.1.1", "::ffff:169.254.169.254", "::127.0.0.1"};
  // clang-format on
  for (const char* ip : kPrivate) {
    EXPECT_TRUE(IsPrivateAddress(ip)) << ip;
  }
}

TEST(AddressPolicyTest, PublicAddressesAreNotPrivate) {
  for (const char* ip : {"8.8.8.8", "1.1.1.1", "172.15.255.255", "172.32.0.1", "192.169.0.1",
                         "100.128.0.1", "2001:4860::8888", "2606:4700::1111", "::ffff:8.8.8.8"}) {
    EXPECT_FALSE(IsPrivateAddress(ip)) << ip;
  }
}

TEST(AddressPolicyTest, UnparsableAddressesCountAsPrivate) {
  for (const char* ip : {"", "localhost", "127.0.0.1.example.com", "999.1.1.1", "fe80::1::2"}) {
    EXPECT_TRUE(IsPrivateAddress(ip)) << ip;
  }
}

TEST(AddressPolicyTest, CheckOutboundAddressRefusesPrivateUnlessAllowed) {
  Status refused = CheckOutboundAddress("127.0.0.1", /*allow_private=*/false);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("127.0.0.1"), std::string::npos) << refused.message();
  EXPECT_TRUE(CheckOutboundAddress("127.0.0.1", /*allow_private=*/true).ok());
  EXPECT_TRUE(CheckOutboundAddress("::ffff:10.0.0.1", /*allow_private=*/true).ok());
  EXPECT_TRUE(CheckOutboundAddress("8.8.8.8", /*allow_private=*/false).ok());
  EXPECT_EQ(CheckOutboundAddress("::ffff:10.0.0.1", false).code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace papr::net
