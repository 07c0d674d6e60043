#include "storage/memory_record.h"

#include <gtest/gtest.h>

namespace papr::storage {
namespace {

MemoryRecord Sample() {
  MemoryRecord r;
  r.id = "mem_01";
  r.user_id = "user_7";
  r.content = "The quick brown fox \xe2\x80\x94 caf\xc3\xa9";
  r.metadata_json = R"({"topic":"animals"})";
  r.context_json = R"([{"role":"user","content":"hi"}])";
  r.acl_json = R"({"read":["user_7"]})";
  r.external_user_id = "ext-1";
  r.created_at_ms = 1'700'000'000'123;
  r.content_hash = "ab12";
  r.word_count = 6;
  r.keywords = {"quick", "brown", "fox"};
  r.batch_id = "batch_9";
  r.batch_index = 300;
  r.enrichment_json = R"({"score":1})";
  return r;
}

std::string Hex(std::string_view s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

TEST(MemoryRecordTest, RoundTrips) {
  MemoryRecord r = Sample();
  auto decoded = DecodeMemoryRecord(EncodeMemoryRecord(r));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, r);
}

TEST(MemoryRecordTest, RoundTripsDefaultsAndExtremes) {
  MemoryRecord r;
  auto decoded = DecodeMemoryRecord(EncodeMemoryRecord(r));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, r);

  r.created_at_ms = INT64_MIN;
  r.word_count = INT64_MAX;
  r.batch_index = -1;
  r.content = std::string(100'000, 'x') + std::string(1, '\0') + "tail";
  r.keywords = {"", std::string(300, 'k')};
  decoded = DecodeMemoryRecord(EncodeMemoryRecord(r));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, r);
}

TEST(MemoryRecordTest, FirstByteIsVersion) { EXPECT_EQ(EncodeMemoryRecord(Sample())[0], 1); }

// Frozen bytes: stored records must stay decodable. Never edit this; add a new version.
TEST(MemoryRecordTest, GoldenBytesVersion1) {
  const MemoryRecord r{.id = "m",
                       .user_id = "u",
                       .content = "hi",
                       .external_user_id = "",
                       .created_at_ms = 5,
                       .content_hash = "",
                       .word_count = 1,
                       .keywords = {"hi"},
                       .batch_id = "",
                       .batch_index = -1,
                       .enrichment_json = ""};
  const std::string golden_hex =
      "01"          // version
      "016d"        // id "m"
      "0175"        // user_id "u"
      "026869"      // content "hi"
      "0474657874"  // type "text"
      "027b7d"      // metadata_json "{}"
      "025b5d"      // context_json "[]"
      "027b7d"      // acl_json "{}"
      "00"          // external_user_id ""
      "0a"          // created_at_ms 5 (zig-zag)
      "00"          // content_hash ""
      "02"          // word_count 1 (zig-zag)
      "01"          // keyword count
      "026869"      // keyword "hi"
      "00"          // batch_id ""
      "01"          // batch_index -1 (zig-zag)
      "00";         // enrichment_json ""
  EXPECT_EQ(Hex(EncodeMemoryRecord(r)), golden_hex);
}

TEST(MemoryRecordTest, EveryTruncationIsCorruption) {
  std::string bytes = EncodeMemoryRecord(Sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto decoded = DecodeMemoryRecord(std::string_view(bytes.data(), n));
    ASSERT_FALSE(decoded.ok()) << "prefix length " << n;
    EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption) << "prefix length " << n;
  }
}

TEST(MemoryRecordTest, TrailingBytesAndUnknownVersionAreCorruption) {
  std::string bytes = EncodeMemoryRecord(Sample());
  EXPECT_EQ(DecodeMemoryRecord(bytes + "x").status().code(), StatusCode::kCorruption);
  bytes[0] = 2;
  EXPECT_EQ(DecodeMemoryRecord(bytes).status().code(), StatusCode::kCorruption);
}

TEST(MemoryRecordTest, GarbageNeverCrashes) {
  uint64_t x = 0x9e3779b97f4a7c15ull;
  std::string original = EncodeMemoryRecord(Sample());
  for (int round = 0; round < 2000; ++round) {
    std::string bytes = original;
    for (int flips = 0; flips < 4; ++flips) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      bytes[x % bytes.size()] = static_cast<char>(x >> 32);
    }
    auto decoded = DecodeMemoryRecord(bytes);
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
    }
  }
  // A huge keyword count must not allocate or read past the end.
  std::string huge("\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\x0f", 17);
  EXPECT_EQ(DecodeMemoryRecord(huge).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace papr::storage
