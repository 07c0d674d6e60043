#include "common/byte_codec.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace papr {
namespace {

TEST(ByteCodecTest, VarintRoundTripsAndSizes) {
  struct Case {
    uint64_t value;
    size_t size;
  };
  std::vector<Case> cases = {{0, 1},     {1, 1},     {127, 1},        {128, 2},
                             {300, 2},   {16383, 2}, {16384, 3},      {1ull << 32, 5},
                             {std::numeric_limits<uint64_t>::max(), 10}};
  std::string buf;
  for (const auto& c : cases) {
    std::string one;
    PutVarint64(&one, c.value);
    EXPECT_EQ(one.size(), c.size) << c.value;
    buf += one;
  }
  std::string_view in = buf;
  for (const auto& c : cases) {
    uint64_t v = 0;
    ASSERT_TRUE(GetVarint64(&in, &v));
    EXPECT_EQ(v, c.value);
  }
  EXPECT_TRUE(in.empty());
}

TEST(ByteCodecTest, VarintKnownBytes) {
  std::string buf;
  PutVarint64(&buf, 300);
  EXPECT_EQ(buf, "\xac\x02");
}

TEST(ByteCodecTest, SignedVarintRoundTripsWithZigZag) {
  std::vector<int64_t> values = {0, -1, 1, -64, 63, -65, 64, 1234567, -1234567,
                                 std::numeric_limits<int64_t>::min(),
                                 std::numeric_limits<int64_t>::max()};
  std::string buf;
  for (int64_t v : values) PutSignedVarint64(&buf, v);
  std::string_view in = buf;
  for (int64_t expected : values) {
    int64_t v = 0;
    ASSERT_TRUE(GetSignedVarint64(&in, &v));
    EXPECT_EQ(v, expected);
  }
  EXPECT_TRUE(in.empty());

  std::string small;  // small magnitudes stay small whatever their sign
  PutSignedVarint64(&small, -1);
  PutSignedVarint64(&small, -64);
  EXPECT_EQ(small.size(), 2u);
}

TEST(ByteCodecTest, LengthPrefixedRoundTrips) {
  std::string buf;
  PutLengthPrefixed(&buf, "");
  PutLengthPrefixed(&buf, "hello");
  PutLengthPrefixed(&buf, std::string(300, 'x'));
  PutLengthPrefixed(&buf, std::string("a\0b", 3));
  std::string_view in = buf;
  std::string_view view;
  std::string str;
  ASSERT_TRUE(GetLengthPrefixed(&in, &view));
  EXPECT_EQ(view, "");
  ASSERT_TRUE(GetLengthPrefixed(&in, &str));
  EXPECT_EQ(str, "hello");
  ASSERT_TRUE(GetLengthPrefixed(&in, &view));
  EXPECT_EQ(view, std::string(300, 'x'));
  ASSERT_TRUE(GetLengthPrefixed(&in, &str));
  EXPECT_EQ(str, std::string("a\0b", 3));
  EXPECT_TRUE(in.empty());
}

TEST(ByteCodecTest, Fixed64BigEndianRoundTripsAndSortsNumerically) {
  std::vector<uint64_t> values = {0, 1, 255, 256, 0x0102030405060708ull,
                                  std::numeric_limits<uint64_t>::max()};
  std::string prev;
  for (uint64_t v : values) {
    std::string buf;
    PutFixed64BE(&buf, v);
    ASSERT_EQ(buf.size(), 8u);
    EXPECT_LT(prev, buf) << v;  // byte order is numeric order
    prev = buf;
    std::string_view in = buf;
    uint64_t out = 0;
    ASSERT_TRUE(GetFixed64BE(&in, &out));
    EXPECT_EQ(out, v);
    EXPECT_TRUE(in.empty());
  }
  std::string buf;
  PutFixed64BE(&buf, 0x0102030405060708ull);
  EXPECT_EQ(buf, "\x01\x02\x03\x04\x05\x06\x07\x08");
}

TEST(ByteCodecTest, TruncatedInputReturnsFalse) {
  uint64_t u = 0;
  int64_t s = 0;
  std::string_view empty;
  EXPECT_FALSE(GetVarint64(&empty, &u));
  std::string_view cont = "\x80\x80";  // continuation bit set on the last byte
  EXPECT_FALSE(GetVarint64(&cont, &u));
  std::string_view scont = "\xff";
  EXPECT_FALSE(GetSignedVarint64(&scont, &s));
  std::string elevens(11, '\xff');  // never terminates within 10 bytes
  std::string_view in11 = elevens;
  EXPECT_FALSE(GetVarint64(&in11, &u));

  std::string lp;
  PutLengthPrefixed(&lp, "hello");
  std::string_view short_lp = std::string_view(lp).substr(0, lp.size() - 1);
  std::string_view view;
  EXPECT_FALSE(GetLengthPrefixed(&short_lp, &view));
  std::string_view no_len;
  std::string str;
  EXPECT_FALSE(GetLengthPrefixed(&no_len, &str));

  std::string_view seven = "1234567";
  EXPECT_FALSE(GetFixed64BE(&seven, &u));
  EXPECT_EQ(seven.size(), 7u);  // nothing consumed on failure
}

// A 10-byte varint whose last byte carries more than the 64th bit encodes a value above
// uint64; it should be rejected as corrupt, but byte_codec.h keeps the low 64 bits.
// Enable once GetVarint64 checks the tenth byte (see the report on common/byte_codec.h).
TEST(ByteCodecTest, VarintAbove64BitsIsRejected) {
  std::string over(9, '\xff');
  over.push_back('\x7f');
  std::string_view in = over;
  uint64_t v = 0;
  EXPECT_FALSE(GetVarint64(&in, &v));
}

}  // namespace
}  // namespace papr
