// How the batch workflow's history payloads read (workflows/durable_batch_payloads.cc):
// golden JSON for each payload the batch workflow records, and the fallback for bytes that do
// not decode. Cloud builds only (the durable batch service needs the engine).
#if PAPR_WITH_ENGINE
#include "workflows/durable_batch_payloads.h"

#include <string>

#include <gtest/gtest.h>

#include "engine/retry_policy.h"
#include "workflows/batch_codec.h"
#include "workflows/internal/durable_batch_rep.h"

namespace papr::workflows {
namespace {

using engine::EventType;
using engine::HistoryEvent;

class BatchPayloadsTest : public ::testing::Test {
 protected:
  BatchPayloadsTest() { RegisterBatchPayloadFormats(&registry_); }

  // The JSON shown for the payload of an event of `type` of a batch_memory execution.
  std::string Show(EventType type, const std::string& bytes, const std::string& activity_type = "",
                   int64_t activity_id = 0, const char* workflow_type = "batch_memory") {
    HistoryEvent e;
    e.event_id = 7;
    e.type = type;
    e.activity_id = activity_id;
    e.payload = bytes;
    return registry_.Format(workflow_type, {e, "payload", e.payload, activity_type});
  }

  engine::PayloadFormatRegistry registry_;
};

BatchHeader Header() {
  BatchHeader h;
  h.user_id = "u1";
  h.total = 300;
  h.max_concurrency = 8;
  h.tolerated_failure_percentage = 12.5;
  h.webhook_url = "https://hooks.example.com/papr";
  h.body_hash = "abc";
  h.total_content_size = 4200;
  h.webhook_schedule_seconds = {0, 5, 30};
  return h;
}

TEST_F(BatchPayloadsTest, BatchHeaderReadsAsItsFields) {
  EXPECT_EQ(Show(EventType::kWorkflowExecutionStarted, EncodeBatchHeader(Header())),
            "{\"user_id\":\"u1\",\"total\":300,\"max_concurrency\":8,"
            "\"tolerated_failure_count\":null,\"tolerated_failure_percentage\":12.5,"
            "\"webhook_url\":\"https://hooks.example.com/papr\","
            "\"webhook_schedule_seconds\":[0,5,30],\"total_content_size\":4200,"
            "\"idempotency_key\":null,\"body_hash\":\"abc\"}");
}

TEST_F(BatchPayloadsTest, ChunkHeaderNamesItsRange) {
  BatchHeader h = Header();
  h.webhook_url.clear();
  h.tolerated_failure_count = 2;
  h.tolerated_failure_percentage = -1;
  h.idempotency_key = "key-1";
  h.root_batch_id = "b1";
  h.lo = 10000;
  h.hi = 20000;
  std::string want =
      "{\"user_id\":\"u1\",\"total\":300,\"max_concurrency\":8,\"tolerated_failure_count\":2,"
      "\"tolerated_failure_percentage\":null,\"webhook_url\":null,"
      "\"webhook_schedule_seconds\":[0,5,30],\"total_content_size\":4200,"
      "\"idempotency_key\":\"key-1\",\"body_hash\":\"abc\",\"root_batch_id\":\"b1\","
      "\"lo\":10000,\"hi\":20000}";
  EXPECT_EQ(Show(EventType::kStartChildWorkflowExecutionInitiated, EncodeBatchHeader(h)), want);
  EXPECT_EQ(Show(EventType::kWorkflowExecutionStarted, EncodeBatchHeader(h), "", 0,
                 "batch_memory_chunk"),
            want);
}

TEST_F(BatchPayloadsTest, MemoryIndexAndResult) {
  EXPECT_EQ(Show(EventType::kActivityTaskScheduled, internal::EncodeInt(0), "process_memory"),
            "{\"memory_index\":0}");
  EXPECT_EQ(Show(EventType::kActivityTaskCompleted, internal::EncodeInt(1767225600123),
                 "process_memory", 42),
            "{\"created_at_ms\":1767225600123,\"created_at\":\"2026-01-01T00:00:00.123Z\"}");
}

TEST_F(BatchPayloadsTest, RangeSummaryReadsAsStateAndCounts) {
  internal::RangeCounts c;
  c.state = BatchState::kPartial;
  c.ok = 8;
  c.failed = 4;
  c.AddError(3, "rejected \"x\"");
  std::string want =
      "{\"state\":\"partial\",\"succeeded\":8,\"failed\":4,\"canceled\":0,"
      "\"errors\":[{\"index\":3,\"error\":\"rejected \\\"x\\\"\"}]}";
  EXPECT_EQ(Show(EventType::kWorkflowExecutionCompleted, internal::EncodeSummary(c)), want);
  EXPECT_EQ(Show(EventType::kChildWorkflowExecutionCompleted, internal::EncodeSummary(c)), want);
  c = {};
  c.state = BatchState::kCancelled;
  c.ok = 1;
  c.canceled = 9;
  EXPECT_EQ(Show(EventType::kWorkflowExecutionCanceled, internal::EncodeSummary(c)),
            "{\"state\":\"cancelled\",\"succeeded\":1,\"failed\":0,\"canceled\":9,\"errors\":[]}");
}

TEST_F(BatchPayloadsTest, WebhookRequestAndAttempts) {
  internal::WebhookRequest r{"https://h.example/x", "b1", "msg_1",
                             "{\"type\": \"batch.completed\", \"data\": {\"n\": 1}}"};
  EXPECT_EQ(Show(EventType::kActivityTaskScheduled, internal::EncodeWebhookRequest(r),
                 "deliver_webhook", internal::kWebhookActivityBase),
            "{\"url\":\"https://h.example/x\",\"webhook_id\":\"msg_1\",\"batch_id\":\"b1\","
            "\"body\":{\"type\":\"batch.completed\",\"data\":{\"n\":1}}}");
  WebhookAttempt ok;
  ok.status_code = 204;
  ok.delivered = true;
  EXPECT_EQ(Show(EventType::kActivityTaskCompleted, internal::EncodeAttempt(ok), "deliver_webhook"),
            "{\"delivered\":true,\"status_code\":204,\"error\":null,\"stop_retrying\":false,"
            "\"retry_after_seconds\":null}");
  WebhookAttempt refused;
  refused.error = "connection refused";
  refused.retry_after_seconds = 30;
  // No scheduling event in the page: the webhook id range says what it is.
  EXPECT_EQ(Show(EventType::kActivityTaskCompleted, internal::EncodeAttempt(refused), "",
                 internal::kWebhookActivityBase + 1),
            "{\"delivered\":false,\"status_code\":null,\"error\":\"connection refused\","
            "\"stop_retrying\":false,\"retry_after_seconds\":30}");
}

TEST_F(BatchPayloadsTest, ActivityOptionsComeFromTheEngine) {
  engine::ActivityOptions o;
  o.retry.maximum_attempts = 1;
  HistoryEvent e;
  e.type = EventType::kActivityTaskScheduled;
  e.activity_type = "deliver_webhook";
  e.options = engine::EncodeActivityOptions(o);
  EXPECT_EQ(registry_.Format("batch_memory", {e, "options", e.options, "deliver_webhook"}),
            "{\"retry_policy\":{\"initial_interval_ms\":1000,\"backoff_coefficient\":2,"
            "\"maximum_interval_ms\":0,\"maximum_attempts\":1,\"non_retryable_error_types\":[]},"
            "\"start_to_close_timeout_ms\":0,\"schedule_to_close_timeout_ms\":0}");
}

TEST_F(BatchPayloadsTest, SignalInputIsShownAsJsonWhenItIsJson) {
  EXPECT_EQ(Show(EventType::kWorkflowExecutionSignaled, "{ \"n\" : 1 }"), "{\"n\":1}");
  EXPECT_EQ(Show(EventType::kWorkflowExecutionSignaled, "not json"), "\"not json\"");
}

TEST_F(BatchPayloadsTest, BytesThatDoNotDecodeFallBackToEscapedBytes) {
  internal::RangeCounts c;
  c.ok = 1;
  std::string summary = internal::EncodeSummary(c);
  EXPECT_EQ(Show(EventType::kWorkflowExecutionCompleted, summary + "x"),
            "\"\\\\x02\\\\x02\\\\x00\\\\x00\\\\x00x\"");  // trailing byte
  std::string bad_state = summary;
  bad_state[0] = 99;
  EXPECT_EQ(Show(EventType::kWorkflowExecutionCompleted, bad_state).front(), '"');
  std::string header = EncodeBatchHeader(Header());
  EXPECT_EQ(Show(EventType::kWorkflowExecutionStarted, header.substr(0, 10)).front(), '"');
  EXPECT_EQ(Show(EventType::kActivityTaskScheduled, internal::EncodeInt(3) + "z", "process_memory"),
            "\"\\\\x06z\"");
  EXPECT_EQ(Show(EventType::kActivityTaskCompleted, "\x01", "deliver_webhook").front(), '"');
  EXPECT_EQ(Show(EventType::kMarkerRecorded, "m"), "\"m\"");  // not a batch payload
  EXPECT_EQ(Show(EventType::kWorkflowExecutionStarted, header, "", 0, "other_type").front(), '"');
  // Every prefix of every payload either decodes or falls back; none crashes.
  internal::WebhookRequest r{"u", "b", "w", "{}"};
  for (const std::string& full : {header, internal::EncodeWebhookRequest(r), summary}) {
    for (size_t n = 0; n < full.size(); ++n) {
      for (EventType t : {EventType::kWorkflowExecutionStarted, EventType::kActivityTaskScheduled,
                          EventType::kWorkflowExecutionCompleted}) {
        EXPECT_FALSE(Show(t, full.substr(0, n), "deliver_webhook").empty());
      }
    }
  }
}

}  // namespace
}  // namespace papr::workflows
#endif  // PAPR_WITH_ENGINE
