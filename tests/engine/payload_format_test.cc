#include "engine/payload_format.h"

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/engine/test_printers.h"

namespace papr::engine {
namespace {

HistoryEvent Event(int64_t id, EventType type) {
  HistoryEvent e;
  e.event_id = id;
  e.type = type;
  return e;
}

//! Reads the payload of "echo" activities as {"echo": <bytes as a string>}; declines the rest.
class EchoFormatter final : public PayloadFormatter {
 public:
  std::optional<std::string> Format(const PayloadField& f) const override {
    if (f.name != "payload" || f.activity_type != "echo") return std::nullopt;
    return "{\"echo\":\"" + std::string(f.bytes) + "\"}";
  }
};

TEST(PayloadFormatTest, ActivityOptionsReadAsRetryPolicyAndTimeouts) {
  ActivityOptions o;
  o.retry.initial_interval_ms = 200;
  o.retry.backoff_coefficient = 2.0;
  o.retry.maximum_interval_ms = 10000;
  o.retry.maximum_attempts = 5;
  o.retry.non_retryable_error_types = {"422"};
  o.start_to_close_timeout_ms = 60000;
  HistoryEvent e = Event(2, EventType::kActivityTaskScheduled);
  e.options = EncodeActivityOptions(o);
  PayloadFormatRegistry registry;  // nothing registered: options are the engine's own format
  EXPECT_EQ(registry.Format("any", {e, "options", e.options, ""}),
            "{\"retry_policy\":{\"initial_interval_ms\":200,\"backoff_coefficient\":2,"
            "\"maximum_interval_ms\":10000,\"maximum_attempts\":5,"
            "\"non_retryable_error_types\":[\"422\"]},\"start_to_close_timeout_ms\":60000,"
            "\"schedule_to_close_timeout_ms\":0}");
}

TEST(PayloadFormatTest, UnknownOrUndecodableBytesFallBackToAnEscapedString) {
  PayloadFormatRegistry registry;
  registry.Register("wf", std::make_shared<EchoFormatter>());
  HistoryEvent e = Event(1, EventType::kWorkflowExecutionStarted);
  e.payload = std::string("\x02\x07" "def\\ault\"\xd8\n");
  EXPECT_EQ(registry.Format("wf", {e, "payload", e.payload, ""}),
            "\"\\\\x02\\\\x07def\\\\x5cault\\\"\\\\xd8\\\\x0a\"");
  HistoryEvent s = Event(2, EventType::kActivityTaskScheduled);
  s.options = "\x01";  // truncated ActivityOptions
  EXPECT_EQ(registry.Format("wf", {s, "options", s.options, ""}), "\"\\\\x01\"");
  EXPECT_EQ(EscapeBytes(std::string("a\0b", 3)), "a\\x00b");
}

TEST(PayloadFormatTest, ReaderFindsActivityTypesInThePageOrThroughTheLookup) {
  PayloadFormatRegistry registry;
  registry.Register("wf", std::make_shared<EchoFormatter>());
  HistoryEvent before = Event(2, EventType::kActivityTaskScheduled);  // on an earlier page
  before.activity_type = "echo";
  int lookups = 0;
  HistoryPayloadReader reader(registry, "wf", [&](int64_t id) -> std::optional<HistoryEvent> {
    ++lookups;
    if (id == 2) return before;
    return std::nullopt;
  });
  HistoryEvent done = Event(5, EventType::kActivityTaskCompleted);
  done.scheduled_event_id = 2;
  done.payload = "hi";
  auto fields = reader.Decode(done);
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].name, "payload");
  EXPECT_EQ(fields[0].json, "{\"echo\":\"hi\"}");
  EXPECT_EQ(reader.Decode(done)[0].json, "{\"echo\":\"hi\"}");
  EXPECT_EQ(lookups, 1);  // remembered

  HistoryEvent scheduled = Event(6, EventType::kActivityTaskScheduled);
  scheduled.activity_type = "other";
  scheduled.payload = "x";
  EXPECT_EQ(reader.Decode(scheduled)[0].json, "\"x\"");
  HistoryEvent other_done = Event(8, EventType::kActivityTaskCompleted);
  other_done.scheduled_event_id = 6;
  other_done.payload = "y";
  EXPECT_EQ(reader.ActivityType(other_done), "other");
  EXPECT_EQ(reader.Decode(other_done)[0].json, "\"y\"");
  EXPECT_EQ(lookups, 1);  // found in the page
  EXPECT_TRUE(reader.Decode(Event(9, EventType::kTimerFired)).empty());
}

TEST(PayloadFormatTest, DescribedEventShowsDecodedJsonAndActivityZero) {
  HistoryEvent e = Event(4, EventType::kActivityTaskCompleted);
  e.scheduled_event_id = 2;
  e.attempt = 1;
  e.payload = std::string("\x80\x01", 2);
  EXPECT_EQ(DescribeDecodedEvent(e, {{"payload", "{\"memory_index\":0}"}}),
            "4 ActivityTaskCompleted payload={\"memory_index\":0} activity_id=0 "
            "scheduled_event_id=2 attempt=1");
  EXPECT_EQ(DescribeEvent(e),
            "4 ActivityTaskCompleted payload=\\x80\\x01 activity_id=0 scheduled_event_id=2 "
            "attempt=1");
  std::string big(3000, 'j');
  std::string line = DescribeDecodedEvent(e, {{"payload", big}});
  EXPECT_LT(line.size(), 1100u);
  EXPECT_NE(line.find("payload=" + std::string(1000, 'j') + "... activity_id=0"),
            std::string::npos);
}

}  // namespace
}  // namespace papr::engine
