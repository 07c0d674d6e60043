#include "engine/history_event.h"

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/engine/test_printers.h"

#include "common/byte_codec.h"

namespace papr::engine {
namespace {

std::vector<EventType> AllEventTypes() {
  return {
#define X(name, number) EventType::k##name,
#include "engine/event_types.def"
#undef X
  };
}

// An event of `type` with every attribute field set to a distinct non-zero value.
HistoryEvent FullEvent(EventType type) {
  HistoryEvent e;
  e.type = type;
  e.event_id = 1000 + static_cast<int64_t>(type);
  e.time_ms = 1767225600123;  // 2026-01-01T00:00:00.123Z
  int64_t n = 1;
#define F_Int(name) e.name = -7 * (n++) - 1000000000000LL;
#define F_Str(name) e.name = std::string(#name "-value-") + std::string(1, '\0') + "\xff" + std::to_string(n++);
#define F(name, number, kind) F_##kind(name)
#include "engine/event_fields.def"
#undef F
#undef F_Int
#undef F_Str
  return e;
}

std::string Hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string Unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

TEST(HistoryEventTest, SchemaHasSeventeenTypesWithDistinctNames) {
  auto types = AllEventTypes();
  EXPECT_EQ(types.size(), 17u);
  std::set<std::string> names;
  for (EventType t : types) {
    EXPECT_TRUE(IsKnownEventType(static_cast<uint8_t>(t)));
    names.insert(EventTypeName(t));
  }
  EXPECT_EQ(names.size(), types.size());
  EXPECT_FALSE(IsKnownEventType(0));
  EXPECT_FALSE(IsKnownEventType(18));
  EXPECT_FALSE(IsKnownEventType(255));
  EXPECT_STREQ(EventTypeName(EventType::kActivityTaskCompleted), "ActivityTaskCompleted");
  EXPECT_STREQ(EventTypeName(EventType::kWorkflowExecutionStarted), "WorkflowExecutionStarted");
}

TEST(HistoryEventTest, RoundTripsEveryTypeWithAllFields) {
  for (EventType t : AllEventTypes()) {
    SCOPED_TRACE(EventTypeName(t));
    HistoryEvent e = FullEvent(t);
    std::string bytes = EncodeEvent(e);
    auto decoded = DecodeEvent(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, e);
    // Re-encoding is byte-identical (canonical form).
    EXPECT_EQ(EncodeEvent(*decoded), bytes);
  }
}

TEST(HistoryEventTest, RoundTripsExtremeIntegersAndDefaultEvent) {
  HistoryEvent e;
  e.type = EventType::kTimerStarted;
  e.event_id = INT64_MAX;
  e.time_ms = INT64_MIN;
  e.timer_id = INT64_MIN;
  e.fire_at_ms = INT64_MAX;
  e.activity_id = -1;
  auto decoded = DecodeEvent(EncodeEvent(e));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, e);

  HistoryEvent zero;  // all zero: only version, type, id 0, time 0
  EXPECT_EQ(EncodeEvent(zero).size(), 4u);
  auto z = DecodeEvent(EncodeEvent(zero));
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(*z, zero);
}

TEST(HistoryEventTest, LargePayloadRoundTrips) {
  HistoryEvent e;
  e.type = EventType::kActivityTaskCompleted;
  e.event_id = 42;
  e.payload.assign(1 << 20, 'x');
  e.payload[12345] = '\0';
  auto decoded = DecodeEvent(EncodeEvent(e));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, e);
}

// Frozen encodings: a change of the persisted codec must fail here (histories on disk are
// read by later builds).
TEST(HistoryEventTest, GoldenBytesAreFrozen) {
  HistoryEvent started;
  started.event_id = 1;
  started.type = EventType::kWorkflowExecutionStarted;
  started.time_ms = 1767225600123;
  started.workflow_type = "fanout";
  started.payload = "20";
  started.owner = "alice";
  const std::string kStartedHex = "010101f6a1d5edee66010666616e6f7574020232301005616c696365";

  HistoryEvent completed;
  completed.event_id = 300;
  completed.type = EventType::kActivityTaskCompleted;
  completed.time_ms = 1767225600999;
  completed.activity_id = 7;
  completed.scheduled_event_id = 150;
  completed.attempt = 3;
  completed.payload = "ok";
  const std::string kCompletedHex = "0104ac02ceafd5edee6602026f6b030e05ac020606";

  HistoryEvent failed;
  failed.event_id = 5;
  failed.type = EventType::kActivityTaskFailed;
  failed.time_ms = -1;
  failed.activity_id = -2;
  failed.attempt = 2;
  failed.failure = "boom";
  failed.failure_type = "IoError";
  const std::string kFailedHex = "01050501030306040704626f6f6d0807496f4572726f72";

  EXPECT_EQ(Hex(EncodeEvent(started)), kStartedHex);
  EXPECT_EQ(Hex(EncodeEvent(completed)), kCompletedHex);
  EXPECT_EQ(Hex(EncodeEvent(failed)), kFailedHex);
  // And the frozen bytes still decode to the same events.
  for (auto [hex, event] : {std::pair{kStartedHex, started}, std::pair{kCompletedHex, completed},
                            std::pair{kFailedHex, failed}}) {
    auto decoded = DecodeEvent(Unhex(hex));
    ASSERT_TRUE(decoded.ok()) << hex << ": " << decoded.status().ToString();
    EXPECT_EQ(*decoded, event);
  }
}

TEST(HistoryEventTest, TruncatedPrefixesNeverDecodeToTheOriginal) {
  for (EventType t : AllEventTypes()) {
    SCOPED_TRACE(EventTypeName(t));
    HistoryEvent e = FullEvent(t);
    std::string bytes = EncodeEvent(e);
    for (size_t len = 0; len < bytes.size(); ++len) {
      auto decoded = DecodeEvent(std::string_view(bytes).substr(0, len));
      if (decoded.ok()) {
        // A cut exactly between two fields is not detectable by this format (no field count
        // or length): it decodes to an event with the later fields missing. Never the original.
        EXPECT_NE(*decoded, e) << "prefix " << len;
      } else {
        EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption) << "prefix " << len;
      }
    }
  }
}

// Cuts inside the header or inside one field (the only detectable ones) are Corruption.
TEST(HistoryEventTest, CutsInsideHeaderOrFieldAreCorruption) {
  HistoryEvent e = FullEvent(EventType::kActivityTaskScheduled);
  std::string bytes = EncodeEvent(e);
  // Field boundaries: walk the encoding the same way the decoder does.
  std::set<size_t> boundaries;
  std::string_view in(bytes);
  in.remove_prefix(2);
  uint64_t id;
  int64_t time;
  ASSERT_TRUE(GetVarint64(&in, &id));
  ASSERT_TRUE(GetSignedVarint64(&in, &time));
  boundaries.insert(bytes.size() - in.size());
  while (!in.empty()) {
    uint64_t field;
    ASSERT_TRUE(GetVarint64(&in, &field));
    std::string s;
    int64_t v;
    bool is_str = false;
#define F_Int false
#define F_Str true
#define F(name, number, kind) \
  if (field == number) is_str = F_##kind;
#include "engine/event_fields.def"
#undef F
#undef F_Int
#undef F_Str
    ASSERT_TRUE(is_str ? GetLengthPrefixed(&in, &s) : GetSignedVarint64(&in, &v));
    boundaries.insert(bytes.size() - in.size());
  }
  size_t fields = 0;
#define F(name, number, kind) ++fields;
#include "engine/event_fields.def"
#undef F
  EXPECT_EQ(boundaries.size(), 1 + fields);  // after the header, then after each field
  int corrupt = 0;
  for (size_t len = 0; len < bytes.size(); ++len) {
    if (boundaries.count(len)) continue;
    auto decoded = DecodeEvent(std::string_view(bytes).substr(0, len));
    ASSERT_FALSE(decoded.ok()) << "prefix " << len;
    EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
    ++corrupt;
  }
  EXPECT_GT(corrupt, 100);
}

TEST(HistoryEventTest, UnknownVersionTypeOrFieldIsCorruption) {
  HistoryEvent e;
  e.type = EventType::kActivityTaskScheduled;
  e.event_id = 2;
  e.time_ms = 10;
  e.activity_id = 1;
  std::string good = EncodeEvent(e);
  ASSERT_TRUE(DecodeEvent(good).ok());

  for (int version : {0, 2, 255}) {
    std::string bad = good;
    bad[0] = static_cast<char>(version);
    auto d = DecodeEvent(bad);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.status().code(), StatusCode::kCorruption);
    EXPECT_NE(d.status().message().find("version"), std::string::npos) << d.status().message();
  }
  for (int type : {0, 18, 200}) {
    std::string bad = good;
    bad[1] = static_cast<char>(type);
    auto d = DecodeEvent(bad);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.status().code(), StatusCode::kCorruption);
    EXPECT_NE(d.status().message().find("type"), std::string::npos) << d.status().message();
  }
  for (uint64_t field : {uint64_t{0}, uint64_t{18}, uint64_t{1000}}) {
    std::string bad = good;
    PutVarint64(&bad, field);
    PutSignedVarint64(&bad, 1);
    auto d = DecodeEvent(bad);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.status().code(), StatusCode::kCorruption);
    EXPECT_NE(d.status().message().find("unknown field"), std::string::npos)
        << d.status().message();
  }
  // A varint longer than 64 bits is corrupt, not undefined.
  std::string overlong = good.substr(0, 2) + std::string(11, '\xff');
  auto d = DecodeEvent(overlong);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kCorruption);
  // A string length past the end is corrupt.
  std::string long_len = good;
  PutVarint64(&long_len, 2);  // payload
  PutVarint64(&long_len, 1000);
  long_len += "abc";
  d = DecodeEvent(long_len);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kCorruption);
}

TEST(HistoryEventTest, GarbageNeverCrashes) {
  uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::string bytes;
    bytes.push_back(1);
    bytes.push_back(static_cast<char>(1 + x % 17));
    size_t len = (x >> 8) % 40;
    uint64_t y = x;
    for (size_t j = 0; j < len; ++j) {
      y = y * 6364136223846793005ULL + 1442695040888963407ULL;
      bytes.push_back(static_cast<char>(y >> 56));
    }
    auto d = DecodeEvent(bytes);
    if (!d.ok()) EXPECT_EQ(d.status().code(), StatusCode::kCorruption);
  }
}

TEST(HistoryEventTest, DescribeEventIsReadable) {
  HistoryEvent e;
  e.event_id = 12;
  e.type = EventType::kActivityTaskCompleted;
  e.activity_id = 3;
  e.attempt = 1;
  e.scheduled_event_id = 5;
  e.payload = "done";
  std::string s = DescribeEvent(e);
  EXPECT_EQ(s.rfind("12 ActivityTaskCompleted", 0), 0u) << s;
  EXPECT_NE(s.find(" activity_id=3"), std::string::npos) << s;
  EXPECT_NE(s.find(" attempt=1"), std::string::npos) << s;
  EXPECT_NE(s.find(" scheduled_event_id=5"), std::string::npos) << s;
  EXPECT_NE(s.find(" payload=done"), std::string::npos) << s;
  // Zero / empty fields are left out.
  EXPECT_EQ(s.find("failure"), std::string::npos) << s;
  EXPECT_EQ(s.find("timer_id"), std::string::npos) << s;
  EXPECT_EQ(s.find('\n'), std::string::npos) << s;

  // Long strings are abbreviated to 80 characters.
  HistoryEvent big;
  big.event_id = 1;
  big.type = EventType::kWorkflowExecutionStarted;
  big.payload = std::string(500, 'p');
  std::string d = DescribeEvent(big);
  EXPECT_NE(d.find("payload=" + std::string(77, 'p') + "..."), std::string::npos) << d;
  EXPECT_EQ(d.find(std::string(78, 'p')), std::string::npos);
  EXPECT_LT(d.size(), 200u);

  // Every type has a describable name; activity events name their activity, 0 included (it
  // is not encoded, as every zero field).
  for (EventType t : AllEventTypes()) {
    HistoryEvent x;
    x.event_id = 9;
    x.type = t;
    EXPECT_EQ(DescribeEvent(x),
              std::string("9 ") + EventTypeName(t) + (IsActivityEvent(t) ? " activity_id=0" : ""));
  }
  HistoryEvent started;
  started.event_id = 3;
  started.type = EventType::kActivityTaskStarted;
  started.scheduled_event_id = 2;
  started.attempt = 1;
  EXPECT_EQ(DescribeEvent(started),
            "3 ActivityTaskStarted activity_id=0 scheduled_event_id=2 attempt=1");
}

}  // namespace
}  // namespace papr::engine
