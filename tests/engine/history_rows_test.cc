// History rows (engine/history_rows.h): pages of events, and the one-event rows written before
// pages, decode the same way; a malformed page is Corruption with the events before the fault.
#include "engine/history_rows.h"

#include <gtest/gtest.h>

#include "common/byte_codec.h"

namespace papr::engine {
namespace {

std::vector<HistoryEvent> Events(int64_t first, int64_t count) {
  std::vector<HistoryEvent> out;
  for (int64_t id = first; id < first + count; ++id) {
    HistoryEvent e;
    e.event_id = id;
    e.type = EventType::kActivityTaskCompleted;
    e.time_ms = 1000 + id;
    e.activity_id = id;
    e.payload = "result " + std::to_string(id);
    out.push_back(e);
  }
  return out;
}

TEST(HistoryRowsTest, APageRoundTrips) {
  std::vector<HistoryEvent> events = Events(5, 16);
  std::vector<HistoryEvent> decoded;
  ASSERT_TRUE(DecodeHistoryRow(EncodeHistoryRow(events), &decoded).ok());
  EXPECT_EQ(decoded, events);
}

TEST(HistoryRowsTest, AnEventStoredAloneDecodesAsARowOfOne) {
  std::vector<HistoryEvent> one = Events(3, 1);
  std::vector<HistoryEvent> decoded;
  ASSERT_TRUE(DecodeHistoryRow(EncodeEvent(one[0]), &decoded).ok());
  EXPECT_EQ(decoded, one);
}

TEST(HistoryRowsTest, DecodingAppends) {
  std::vector<HistoryEvent> decoded = Events(1, 2);
  ASSERT_TRUE(DecodeHistoryRow(EncodeHistoryRow(Events(3, 2)), &decoded).ok());
  EXPECT_EQ(decoded, Events(1, 4));
}

TEST(HistoryRowsTest, MalformedPagesAreCorruptionKeepingTheEventsBeforeTheFault) {
  std::string good = EncodeHistoryRow(Events(1, 3));
  for (size_t len = 0; len < good.size(); ++len) {
    std::vector<HistoryEvent> decoded;
    Status s = DecodeHistoryRow(std::string_view(good).substr(0, len), &decoded);
    // Cut at an event's end it is a shorter page (the row's key, its last event's id, tells
    // the history readers it is short); anywhere else it is Corruption.
    EXPECT_TRUE(s.ok() || s.code() == StatusCode::kCorruption) << s.ToString();
    EXPECT_LT(decoded.size(), 3u) << "prefix of " << len << " bytes";
    if (len <= 1) {
      EXPECT_FALSE(s.ok()) << "an empty page";
    }
  }
  std::string bad = EncodeHistoryRow(Events(1, 2));
  PutLengthPrefixed(&bad, "\x07garbage");
  std::vector<HistoryEvent> decoded;
  EXPECT_TRUE(DecodeHistoryRow(bad, &decoded).code() == StatusCode::kCorruption);
  EXPECT_EQ(decoded, Events(1, 2));
  decoded.clear();
  EXPECT_TRUE(DecodeHistoryRow(std::string(1, '\x02'), &decoded).code() == StatusCode::kCorruption) << "empty page";
  EXPECT_TRUE(DecodeHistoryRow("", &decoded).code() == StatusCode::kCorruption);
}

}  // namespace
}  // namespace papr::engine
