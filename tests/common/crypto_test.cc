#include "common/crypto.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace papr {
namespace {

std::string Hex(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

// 8-4-4-4-12 lowercase hex digits.
bool IsUuidShaped(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    char c = s[i];
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (dash ? c != '-' : !hex) return false;
  }
  return true;
}

TEST(CryptoTest, Sha256KnownVectors) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(CryptoTest, HmacSha256Rfc4231TestCase2) {
  std::string mac = HmacSha256("Jefe", "what do ya want for nothing?");
  ASSERT_EQ(mac.size(), 32u);
  EXPECT_EQ(Hex(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(CryptoTest, HmacSha256WithEmptyKeyOrData) {
  EXPECT_EQ(HmacSha256(std::string_view(), "abc"), HmacSha256("", "abc"));
  EXPECT_EQ(HmacSha256(std::string_view(), "abc").size(), 32u);
  EXPECT_EQ(HmacSha256("k", std::string_view()).size(), 32u);
}

TEST(CryptoTest, StandardWebhooksSignatureVector) {
  std::string key;
  ASSERT_TRUE(Base64Decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &key));
  EXPECT_EQ(key.size(), 24u);
  std::string msg = "msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{\"test\": 2432232314}";
  EXPECT_EQ(Base64Encode(HmacSha256(key, msg)), "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(CryptoTest, Base64Rfc4648VectorsAndPadding) {
  struct Case {
    std::string raw, b64;
  };
  for (const Case& c : {Case{"", ""}, Case{"f", "Zg=="}, Case{"fo", "Zm8="}, Case{"foo", "Zm9v"},
                        Case{"foob", "Zm9vYg=="}, Case{"fooba", "Zm9vYmE="},
                        Case{"foobar", "Zm9vYmFy"}}) {
    EXPECT_EQ(Base64Encode(c.raw), c.b64);
    std::string out = "junk";
    ASSERT_TRUE(Base64Decode(c.b64, &out)) << c.b64;
    EXPECT_EQ(out, c.raw);
  }
}

TEST(CryptoTest, Base64RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= all.size(); n += 37) {
    std::string data = all.substr(0, n);
    std::string out;
    ASSERT_TRUE(Base64Decode(Base64Encode(data), &out));
    EXPECT_EQ(out, data);
  }
}

TEST(CryptoTest, Base64DecodeRejectsMalformedInput) {
  for (std::string bad : {"Zm9", "Zm9vY", "Zm9v!", "Zm9$", "====", "A===", "=AAA", "AA=A",
                          "Zg==Zg==", " Zm9v", "Zm9v\n", "Zm 9v", "Zm9-", "Zm9_"}) {
    std::string out = "untouched";
    EXPECT_FALSE(Base64Decode(bad, &out)) << bad;
    EXPECT_EQ(out, "untouched") << bad;
  }
}

TEST(CryptoTest, DeterministicUuidIsStableAndUuidShaped) {
  std::string a = DeterministicUuid("batch-1/0");
  EXPECT_EQ(a, DeterministicUuid("batch-1/0"));
  EXPECT_NE(a, DeterministicUuid("batch-1/1"));
  EXPECT_TRUE(IsUuidShaped(a)) << a;
  // The first 128 bits of sha256(seed), dashed.
  std::string hex = Sha256Hex("batch-1/0").substr(0, 32);
  std::string undashed = a;
  undashed.erase(std::remove(undashed.begin(), undashed.end(), '-'), undashed.end());
  EXPECT_EQ(undashed, hex);
}

TEST(CryptoTest, RandomIdsAreShapedAndDistinct) {
  std::string h1 = RandomHexId(), h2 = RandomHexId();
  EXPECT_EQ(h1.size(), 32u);
  EXPECT_EQ(h1.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(h1, h2);
  std::string u1 = RandomUuid(), u2 = RandomUuid();
  EXPECT_TRUE(IsUuidShaped(u1)) << u1;
  EXPECT_NE(u1, u2);
}

TEST(CryptoTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
}

}  // namespace
}  // namespace papr
