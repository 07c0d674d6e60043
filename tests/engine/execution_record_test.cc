#include "engine/execution_record.h"

#include <gtest/gtest.h>

namespace papr::engine {
namespace {

ExecutionRecord FullRecord() {
  ExecutionRecord r;
  r.workflow_id = "wf-1";
  r.workflow_type = "fanout";
  r.owner = std::string("al\0ice", 6);
  r.parent_workflow_id = "parent-7";
  r.status = ExecutionStatus::kFailed;
  r.start_ms = 1767225600123;
  r.close_ms = 1767225609999;
  r.updated_ms = 1767225610000;
  r.next_event_id = 77;
  r.activities_scheduled = 30;
  r.activities_succeeded = 20;
  r.activities_failed = 7;
  r.activity_retries = 12;
  r.progress_succeeded = 19;
  r.progress_failed = -1;
  r.progress_canceled = 3;
  r.cancel_requested = true;
  r.result = "";
  r.failure = "too many failures";
  r.first_failures = {{0, "boom", "IoError"}, {5, "", ""}, {INT64_MAX, std::string(1000, 'e'), "T"}};
  return r;
}

TEST(ExecutionRecordTest, StatusNamesRoundTrip) {
  for (auto s : {ExecutionStatus::kRunning, ExecutionStatus::kCompleted, ExecutionStatus::kFailed,
                 ExecutionStatus::kCanceled, ExecutionStatus::kTerminated}) {
    ExecutionStatus parsed = ExecutionStatus::kRunning;
    ASSERT_TRUE(ParseExecutionStatus(ExecutionStatusName(s), &parsed)) << ExecutionStatusName(s);
    EXPECT_EQ(parsed, s);
  }
  EXPECT_STREQ(ExecutionStatusName(ExecutionStatus::kCanceled), "canceled");
  ExecutionStatus out;
  EXPECT_FALSE(ParseExecutionStatus("cancelled", &out));
  EXPECT_FALSE(ParseExecutionStatus("", &out));
}

TEST(ExecutionRecordTest, RecordRoundTrips) {
  ExecutionRecord r = FullRecord();
  std::string bytes = EncodeExecutionRecord(r);
  auto d = DecodeExecutionRecord(bytes);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(*d, r);
  EXPECT_EQ(d->activities_pending(), 3);

  ExecutionRecord empty;
  auto e = DecodeExecutionRecord(EncodeExecutionRecord(empty));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, empty);
  EXPECT_EQ(e->status, ExecutionStatus::kRunning);
  EXPECT_EQ(e->next_event_id, 1);
}

TEST(ExecutionRecordTest, TruncatedRecordIsCorruption) {
  std::string bytes = EncodeExecutionRecord(FullRecord());
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto d = DecodeExecutionRecord(std::string_view(bytes).substr(0, len));
    ASSERT_FALSE(d.ok()) << "prefix " << len;
    EXPECT_EQ(d.status().code(), StatusCode::kCorruption);
  }
}

TEST(ExecutionRecordTest, VersionOneRecordsDecodeWithoutOpenChildren) {
  ExecutionRecord r = FullRecord();
  r.open_children = {"a/chunk-0", "a/chunk-1"};
  std::string v2 = EncodeExecutionRecord(r);
  auto back = DecodeExecutionRecord(v2);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->open_children, r.open_children);
  // A version 1 record is the same bytes without the open_children section.
  r.open_children.clear();
  std::string v1 = EncodeExecutionRecord(r);
  v1[0] = 1;
  v1.pop_back();  // the empty section's count byte
  auto old = DecodeExecutionRecord(v1);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(*old, r);
}

TEST(ExecutionRecordTest, BadVersionOrStatusIsCorruption) {
  std::string bytes = EncodeExecutionRecord(FullRecord());
  std::string v = bytes;
  v[0] = 3;  // a version newer than this build writes
  EXPECT_EQ(DecodeExecutionRecord(v).status().code(), StatusCode::kCorruption);
  // Status byte follows version + four length-prefixed strings (id, type, owner, parent).
  ExecutionRecord r;
  r.workflow_id = "a";
  r.workflow_type = "b";
  r.owner = "c";
  r.parent_workflow_id = "d";
  std::string s = EncodeExecutionRecord(r);
  ASSERT_EQ(s[9], 1);  // kRunning
  for (int bad : {0, 6, 255}) {
    std::string x = s;
    x[9] = static_cast<char>(bad);
    EXPECT_EQ(DecodeExecutionRecord(x).status().code(), StatusCode::kCorruption) << bad;
  }
}

TEST(ExecutionRecordTest, ActivityRecordRoundTrips) {
  for (auto state : {ActivityState::kBackingOff, ActivityState::kSucceeded, ActivityState::kFailed}) {
    ActivityRecord r;
    r.activity_id = 42;
    r.state = state;
    r.attempts = 3;
    r.payload = std::string("pay\0load", 8);
    r.error = "last error";
    r.next_attempt_ms = 1767225600123;
    r.finished_ms = -1;
    std::string bytes = EncodeActivityRecord(r);
    auto d = DecodeActivityRecord(42, bytes);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(d->activity_id, 42);
    EXPECT_EQ(d->state, state);
    EXPECT_EQ(d->attempts, 3);
    EXPECT_EQ(d->payload, r.payload);
    EXPECT_EQ(d->error, "last error");
    EXPECT_EQ(d->next_attempt_ms, 1767225600123);
    EXPECT_EQ(d->finished_ms, -1);
    // The id comes from the key, not the value.
    auto other = DecodeActivityRecord(7, bytes);
    ASSERT_TRUE(other.ok());
    EXPECT_EQ(other->activity_id, 7);
  }
}

TEST(ExecutionRecordTest, TruncatedOrBadActivityRecordIsCorruption) {
  ActivityRecord r;
  r.state = ActivityState::kSucceeded;
  r.attempts = 2;
  r.payload = "result";
  r.error = "err";
  r.finished_ms = 99;
  std::string bytes = EncodeActivityRecord(r);
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto d = DecodeActivityRecord(1, std::string_view(bytes).substr(0, len));
    ASSERT_FALSE(d.ok()) << "prefix " << len;
    EXPECT_EQ(d.status().code(), StatusCode::kCorruption);
  }
  for (int bad : {0, 4, 0x80, 0xff}) {
    std::string x = bytes;
    x[0] = static_cast<char>(bad);
    EXPECT_EQ(DecodeActivityRecord(1, x).status().code(), StatusCode::kCorruption) << bad;
  }
}

}  // namespace
}  // namespace papr::engine
