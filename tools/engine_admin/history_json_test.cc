#include "tools/engine_admin/history_json.h"

#include <gtest/gtest.h>

#include "tools/engine_admin/text_util.h"

namespace papr::engine_admin {
namespace {

using engine::EventType;
using engine::HistoryEvent;

// One event of every type with every field set: binary, UTF-8 and invalid UTF-8 strings.
std::vector<HistoryEvent> EveryTypeAndField() {
  std::vector<HistoryEvent> events;
  int64_t id = 0;
#define X(name, number)             \
  {                                 \
    HistoryEvent e;                 \
    e.event_id = ++id;              \
    e.type = EventType::k##name;    \
    e.time_ms = 1700000000000 + id; \
    events.push_back(e);            \
  }
#include "engine/event_types.def"
#undef X
  int64_t n = 1;
  for (auto& e : events) {
#define F_Int(name) e.name = n * 7 - 3;
#define F_Str(name) e.name = std::string(#name) + "\xc3\xa9 \x01\"\\" + std::to_string(n);
#define F(name, number, kind) F_##kind(name)
#include "engine/event_fields.def"
#undef F
#undef F_Int
#undef F_Str
    ++n;
  }
  events[0].payload = std::string("\x00\xff\x80 binary", 10);
  events[1].failure = "bad utf8 \xff\xfe";
  events[2].reason = std::string("nul \x00 inside", 12);
  events[3].activity_id = -5;
  return events;
}

TEST(HistoryJsonTest, RoundTripsEveryEventTypeAndField) {
  auto events = EveryTypeAndField();
  std::string json = EncodeHistoryJson("wf-\xe2\x82\xac/1", events);
  auto doc = DecodeHistoryJson(json);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->workflow_id, "wf-\xe2\x82\xac/1");
  ASSERT_EQ(doc->events.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i)
    EXPECT_EQ(doc->events[i], events[i]) << i;
}

TEST(HistoryJsonTest, BinaryFieldsAreBase64AndTextFieldsPlain) {
  std::vector<HistoryEvent> events(1);
  events[0].event_id = 1;
  events[0].time_ms = 5;
  events[0].workflow_type = std::string("batch_memory");
  events[0].payload = std::string("hi");
  events[0].failure = std::string("\xff");
  std::string json = EncodeHistoryJson("w", events);
  EXPECT_EQ(
      json,
      "{\"format\":\"papr.history/v1\",\"workflow_id\":\"w\",\"events\":[\n"
      "{\"event_id\":1,\"type\":\"WorkflowExecutionStarted\",\"time_ms\":5,"
      "\"workflow_type\":\"batch_memory\",\"payload_b64\":\"aGk=\",\"failure_b64\":\"/w==\"}\n"
      "]}\n");
}

TEST(HistoryJsonTest, DecodedPayloadsAndActivityZeroAreShownAndReadBackIgnored) {
  std::vector<HistoryEvent> events(2);
  events[0].event_id = 2;
  events[0].type = EventType::kActivityTaskScheduled;
  events[0].activity_type = "process_memory";
  events[0].payload = std::string(1, '\0');
  events[1].event_id = 3;
  events[1].type = EventType::kActivityTaskStarted;
  events[1].scheduled_event_id = 2;
  std::vector<std::vector<engine::DecodedField>> decoded = {
      {{"payload", "{\"memory_index\":0}"}}, {}};
  std::string json = EncodeHistoryJson("w", events, &decoded);
  EXPECT_EQ(json,
            "{\"format\":\"papr.history/v1\",\"workflow_id\":\"w\",\"events\":[\n"
            "{\"event_id\":2,\"type\":\"ActivityTaskScheduled\",\"time_ms\":0,\"payload_b64\":\"AA==\","
            "\"activity_id\":0,\"activity_type\":\"process_memory\","
            "\"decoded\":{\"payload\":{\"memory_index\":0}}},\n"
            "{\"event_id\":3,\"type\":\"ActivityTaskStarted\",\"time_ms\":0,\"activity_id\":0,"
            "\"scheduled_event_id\":2}\n"
            "]}\n");
  auto doc = DecodeHistoryJson(json);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  ASSERT_EQ(doc->events.size(), 2u);
  EXPECT_EQ(doc->events[0], events[0]);
  EXPECT_EQ(doc->events[1], events[1]);
  EXPECT_EQ(engine::EncodeEvent(doc->events[1]), engine::EncodeEvent(events[1]));
  // Without decoded fields (--raw), no "decoded" key.
  EXPECT_EQ(EncodeHistoryJson("w", events).find("decoded"), std::string::npos);
}

TEST(HistoryJsonTest, AcceptsPlainPayloadWrittenByHand) {
  auto doc = DecodeHistoryJson(
      R"({"format":"papr.history/v1","workflow_id":"w","events":[)"
      R"({"event_id":1,"type":"WorkflowExecutionSignaled","time_ms":0,"payload":"{}","signal_name":"s"}]})");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->events[0].payload, "{}");
  EXPECT_EQ(doc->events[0].signal_name, "s");
}

TEST(HistoryJsonTest, RejectsMalformedDocuments) {
  const char* kBad[] = {
      "not json",
      R"({"format":"papr.history/v2","workflow_id":"w","events":[]})",
      R"({"format":"papr.history/v1","events":[]})",
      R"({"format":"papr.history/v1","workflow_id":"w","events":[{"event_id":1,"time_ms":0}]})",
      R"({"format":"papr.history/v1","workflow_id":"w","events":[{"event_id":1,"type":"Nope","time_ms":0}]})",
      R"({"format":"papr.history/v1","workflow_id":"w","events":[{"event_id":1,"type":"TimerFired","time_ms":0,"colour":1}]})",
      R"({"format":"papr.history/v1","workflow_id":"w","events":[{"event_id":1,"type":"TimerFired","time_ms":0,"payload":"a","payload_b64":"YQ=="}]})",
      R"({"format":"papr.history/v1","workflow_id":"w","events":[{"event_id":1,"type":"TimerFired","time_ms":0,"payload_b64":"!!"}]})",
      R"({"format":"papr.history/v1","workflow_id":"w","events":[{"event_id":"1","type":"TimerFired","time_ms":0}]})",
      R"({"format":"papr.history/v1","workflow_id":"w","events":[{"event_id":1.5,"type":"TimerFired","time_ms":0}]})",
      R"({"format":"papr.history/v1","workflow_id":"w","events":[{"event_id":1,"type":"TimerFired","time_ms":0,"decoded":"x"}]})",
  };
  for (const char* text : kBad) {
    auto doc = DecodeHistoryJson(text);
    EXPECT_FALSE(doc.ok()) << text;
    if (!doc.ok()) {
      EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument) << text;
    }
  }
}

TEST(TextUtilTest, PrintableEscapesControlBytesAndInvalidUtf8) {
  EXPECT_EQ(Printable("a\nb\x01\xc3\xa9\xff"), "a\\x0ab\\x01\xc3\xa9\\xff");
  EXPECT_TRUE(IsValidUtf8("\xe2\x82\xac"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // surrogate
  EXPECT_FALSE(IsValidUtf8("\xc0\x80"));      // overlong
}

}  // namespace
}  // namespace papr::engine_admin
