#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace papr::engine {

enum class ExecutionStatus : uint8_t {
  kRunning = 1,
  kCompleted = 2,
  kFailed = 3,
  kCanceled = 4,
  kTerminated = 5,
};
const char* ExecutionStatusName(ExecutionStatus s);
bool ParseExecutionStatus(std::string_view name, ExecutionStatus* out);

struct ActivityFailureNote {
  int64_t activity_id = 0;
  std::string error;
  std::string error_type;
  bool operator==(const ActivityFailureNote&) const = default;
};

//! Derived state of one execution, rewritten with every transition; rebuildable from the
//! history (RebuildRecord in replay).
struct ExecutionRecord {
  std::string workflow_id;
  std::string workflow_type;
  std::string owner;
  std::string parent_workflow_id;  // empty unless a child workflow
  ExecutionStatus status = ExecutionStatus::kRunning;
  int64_t start_ms = 0;
  int64_t close_ms = 0;
  int64_t updated_ms = 0;
  int64_t next_event_id = 1;  // history length + 1
  int64_t activities_scheduled = 0;
  int64_t activities_succeeded = 0;
  int64_t activities_failed = 0;
  int64_t activity_retries = 0;  // failed attempts that were retried (not in history)
  int64_t progress_succeeded = 0;  // set by workflow code
  int64_t progress_failed = 0;
  int64_t progress_canceled = 0;
  bool cancel_requested = false;
  std::string result;
  std::string failure;
  // Set by workflow code (SetMemo): e.g. a batch's final state while its webhook is retried.
  std::string memo;
  int64_t memo_ms = 0;
  std::vector<ActivityFailureNote> first_failures;  // at most 100
  // Children whose close this execution has not recorded yet (a reader adds their progress:
  // a chunked batch's counts never go backwards between a chunk's close and its parent's).
  std::vector<std::string> open_children;

  int64_t activities_pending() const {
    return activities_scheduled - activities_succeeded - activities_failed;
  }
  bool operator==(const ExecutionRecord&) const = default;
};

std::string EncodeExecutionRecord(const ExecutionRecord& r);
Result<ExecutionRecord> DecodeExecutionRecord(std::string_view bytes);

enum class ActivityState : uint8_t { kBackingOff = 1, kSucceeded = 2, kFailed = 3 };

//! Derived per-activity row: written when an attempt fails and is retried, and at its end.
struct ActivityRecord {
  int64_t activity_id = 0;
  ActivityState state = ActivityState::kBackingOff;
  int64_t attempts = 0;
  std::string payload;
  std::string error;
  int64_t next_attempt_ms = 0;  // backing off: when the next attempt starts
  int64_t finished_ms = 0;
};

std::string EncodeActivityRecord(const ActivityRecord& r);
Result<ActivityRecord> DecodeActivityRecord(int64_t activity_id, std::string_view bytes);

}  // namespace papr::engine
