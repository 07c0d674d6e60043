#include "storage/keys.h"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

namespace papr::storage {
namespace {

using namespace std::string_literals;

TEST(KeysTest, MemoryKeyRoundTrips) {
  std::string key = MemoryKey("user-1", "mem-42");
  EXPECT_EQ(key, "user-1\0mem-42"s);
  std::string_view user, id;
  ASSERT_TRUE(DecodeMemoryKey(key, &user, &id));
  EXPECT_EQ(user, "user-1");
  EXPECT_EQ(id, "mem-42");
  EXPECT_TRUE(key.starts_with(MemoryUserPrefix("user-1")));
  EXPECT_FALSE(key.starts_with(MemoryUserPrefix("user")));
  EXPECT_FALSE(DecodeMemoryKey("no-separator", &user, &id));
}

TEST(KeysTest, IndexQueueKeyAndValueRoundTrip) {
  uint64_t seq = 0;
  ASSERT_TRUE(DecodeIndexQueueKey(IndexQueueKey(0x0102030405060708ULL), &seq));
  EXPECT_EQ(seq, 0x0102030405060708ULL);
  EXPECT_LT(IndexQueueKey(9), IndexQueueKey(256));  // byte order is numeric order
  std::string user;
  std::string id;
  ASSERT_TRUE(DecodeIndexQueueValue(EncodeIndexQueueValue("u", "m1"), &user, &id));
  EXPECT_EQ(user, "u");
  EXPECT_EQ(id, "m1");
  EXPECT_FALSE(DecodeIndexQueueValue(EncodeIndexQueueValue("u", "m1") + "x", &user, &id));
}

TEST(KeysTest, QueuedDeletionCarriesItsTombstoneAndIsNoMemoryRow) {
  std::string user;
  std::string id;
  std::optional<std::string> tombstone = "stale";
  ASSERT_TRUE(DecodeIndexQueueValue(EncodeIndexQueueValue("u", "m1"), &user, &id, &tombstone));
  EXPECT_FALSE(tombstone.has_value());
  std::string row = EncodeIndexQueueDeletion("u", "m2", "t\0b"s);
  ASSERT_TRUE(DecodeIndexQueueValue(row, &user, &id, &tombstone));
  EXPECT_EQ(id, "m2");
  ASSERT_TRUE(tombstone.has_value());
  EXPECT_EQ(*tombstone, "t\0b"s);
  // A reader that knows no deletions refuses the row rather than index a deleted memory.
  EXPECT_FALSE(DecodeIndexQueueValue(row, &user, &id));
}

TEST(KeysTest, SegmentKeysRoundTripWithAnyScopeBytes) {
  SegmentKeyParts parts;
  std::string scope = "end\0user"s;
  ASSERT_TRUE(DecodeSegmentKey(SegmentKey("u", scope, 7), &parts));
  EXPECT_EQ(parts.user_id, "u");
  EXPECT_EQ(parts.scope, scope);
  EXPECT_FALSE(parts.tombstone);
  EXPECT_EQ(parts.segment_id, 7u);
  ASSERT_TRUE(DecodeSegmentKey(SegmentTombstoneKey("u", "", 7, 70000), &parts));
  EXPECT_TRUE(parts.tombstone);
  EXPECT_EQ(parts.scope, "");
  EXPECT_EQ(parts.doc, 70000u);
  EXPECT_TRUE(SegmentKey("u", "", 1).starts_with(SegmentUserPrefix("u")));
  EXPECT_FALSE(SegmentKey("uu", "", 1).starts_with(SegmentUserPrefix("u")));
  EXPECT_FALSE(DecodeSegmentKey("u\0only"s, &parts));
}

TEST(KeysTest, SimpleKeys) {
  EXPECT_EQ(UserStatsKey("u"), "u");
  EXPECT_EQ(UsageKey("u"), "u");
  EXPECT_EQ(ExecutionKey("wf"), "wf");
  EXPECT_NE(MetaSchemaVersionKey(), MetaCounterKey("schema_version", ""));
  EXPECT_EQ(MetaCounterKey("batches", "u"), "\002batches\0u"s);
}

TEST(KeysTest, MetaMaxKeysSortLargestFirstAndRoundTrip) {
  const std::string prefix = MetaMaxPrefix("max", "u");
  EXPECT_LT(MetaMaxKey("max", "u", 500), MetaMaxKey("max", "u", 7));
  EXPECT_LT(MetaMaxKey("max", "u", 1ULL << 40), MetaMaxKey("max", "u", 500));
  EXPECT_TRUE(MetaMaxKey("max", "u", 7).starts_with(prefix));
  EXPECT_FALSE(MetaMaxKey("max", "uu", 7).starts_with(prefix));
  EXPECT_NE(MetaMaxKey("max", "u", 7).substr(0, 1), MetaCounterKey("max", "u").substr(0, 1));
  uint64_t value = 0;
  ASSERT_TRUE(DecodeMetaMaxKey(MetaMaxKey("max", "u", 300), prefix, &value));
  EXPECT_EQ(value, 300u);
  EXPECT_FALSE(DecodeMetaMaxKey(MetaMaxKey("max", "uu", 300), prefix, &value));
  EXPECT_FALSE(DecodeMetaMaxKey(prefix + "short", prefix, &value));
}

TEST(KeysTest, HistoryKeyRoundTripsAndSortsByEventId) {
  std::string_view wf;
  uint64_t event_id = 0;
  std::string key = HistoryKey("wf-1", 258);
  ASSERT_TRUE(DecodeHistoryKey(key, &wf, &event_id));
  EXPECT_EQ(wf, "wf-1");
  EXPECT_EQ(event_id, 258u);
  EXPECT_TRUE(HistoryKey("wf-1", 7).starts_with(HistoryPrefix("wf-1")));
  EXPECT_FALSE(HistoryKey("wf-10", 7).starts_with(HistoryPrefix("wf-1")));
  key = HistoryPrefix("wf-1") + "short";
  EXPECT_FALSE(DecodeHistoryKey(key, &wf, &event_id));

  std::vector<uint64_t> ids = {1, 2, 9, 10, 255, 256, 65535, 65536, 1ull << 40, ~0ull};
  for (size_t i = 1; i < ids.size(); ++i) {
    EXPECT_LT(HistoryKey("wf", ids[i - 1]), HistoryKey("wf", ids[i])) << ids[i];
  }
}

TEST(KeysTest, TimerKeyRoundTripsAndSortsByFireTime) {
  uint64_t fire = 0;
  std::string_view wf, timer;
  std::string key = TimerKey(1'700'000'000'000, "wf-1", "retry-3");
  ASSERT_TRUE(DecodeTimerKey(key, &fire, &wf, &timer));
  EXPECT_EQ(fire, 1'700'000'000'000u);
  EXPECT_EQ(wf, "wf-1");
  EXPECT_EQ(timer, "retry-3");
  // Fire time dominates the workflow id.
  EXPECT_LT(TimerKey(999, "zzz", "t"), TimerKey(1000, "aaa", "t"));
  EXPECT_LT(TimerKey(1000, "aaa", "t"), TimerFireTimePrefix(1001));
  EXPECT_GE(TimerKey(1001, "aaa", "t"), TimerFireTimePrefix(1001));
  EXPECT_FALSE(DecodeTimerKey("1234567", &fire, &wf, &timer));
}

TEST(KeysTest, VisibilityAndBlobKeysRoundTrip) {
  uint8_t status = 0;
  uint64_t start = 0;
  std::string_view wf, blob;
  std::string key = VisibilityKey(3, 12345, "wf-9");
  ASSERT_TRUE(DecodeVisibilityKey(key, &status, &start, &wf));
  EXPECT_EQ(status, 3);
  EXPECT_EQ(start, 12345u);
  EXPECT_EQ(wf, "wf-9");
  EXPECT_TRUE(VisibilityKey(3, 1, "x").starts_with(VisibilityStatusPrefix(3)));
  EXPECT_LT(VisibilityKey(3, 2, "z"), VisibilityKey(3, 256, "a"));

  key = BlobKey("wf-9", "input");
  ASSERT_TRUE(DecodeBlobKey(key, &wf, &blob));
  EXPECT_EQ(wf, "wf-9");
  EXPECT_EQ(blob, "input");
  EXPECT_TRUE(BlobKey("wf-9", "input").starts_with(BlobPrefix("wf-9")));
}

TEST(KeysTest, PrefixSuccessor) {
  EXPECT_EQ(PrefixSuccessor("abc"), "abd");
  EXPECT_EQ(PrefixSuccessor("ab\xff"), "ac");
  EXPECT_EQ(PrefixSuccessor("\xff\xff"), "");
  EXPECT_EQ(PrefixSuccessor(""), "");
  EXPECT_EQ(PrefixSuccessor("u\0"s), "u\x01");
}

}  // namespace
}  // namespace papr::storage
