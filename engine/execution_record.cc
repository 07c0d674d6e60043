#include "engine/execution_record.h"

#include "common/byte_codec.h"

namespace papr::engine {
namespace {
// Version 2 added open_children (version 1 records, which lack it, still decode).
constexpr uint8_t kRecordVersion = 2;
}

const char* ExecutionStatusName(ExecutionStatus s) {
  switch (s) {
    case ExecutionStatus::kRunning: return "running";
    case ExecutionStatus::kCompleted: return "completed";
    case ExecutionStatus::kFailed: return "failed";
    case ExecutionStatus::kCanceled: return "canceled";
    case ExecutionStatus::kTerminated: return "terminated";
  }
  return "unknown";
}

bool ParseExecutionStatus(std::string_view name, ExecutionStatus* out) {
  for (auto s : {ExecutionStatus::kRunning, ExecutionStatus::kCompleted, ExecutionStatus::kFailed,
                 ExecutionStatus::kCanceled, ExecutionStatus::kTerminated}) {
    if (name == ExecutionStatusName(s)) {
      *out = s;
      return true;
    }
  }
  return false;
}

std::string EncodeExecutionRecord(const ExecutionRecord& r) {
  std::string out;
  out.push_back(static_cast<char>(kRecordVersion));
  PutLengthPrefixed(&out, r.workflow_id);
  PutLengthPrefixed(&out, r.workflow_type);
  PutLengthPrefixed(&out, r.owner);
  PutLengthPrefixed(&out, r.parent_workflow_id);
  out.push_back(static_cast<char>(r.status));
  for (int64_t v : {r.start_ms, r.close_ms, r.updated_ms, r.next_event_id, r.activities_scheduled,
                    r.activities_succeeded, r.activities_failed, r.activity_retries,
                    r.progress_succeeded, r.progress_failed, r.progress_canceled,
                    static_cast<int64_t>(r.cancel_requested)}) {
    PutSignedVarint64(&out, v);
  }
  PutLengthPrefixed(&out, r.result);
  PutLengthPrefixed(&out, r.failure);
  PutLengthPrefixed(&out, r.memo);
  PutSignedVarint64(&out, r.memo_ms);
  PutVarint64(&out, r.first_failures.size());
  for (const auto& f : r.first_failures) {
    PutSignedVarint64(&out, f.activity_id);
    PutLengthPrefixed(&out, f.error);
    PutLengthPrefixed(&out, f.error_type);
  }
  PutVarint64(&out, r.open_children.size());
  for (const auto& c : r.open_children) PutLengthPrefixed(&out, c);
  return out;
}

Result<ExecutionRecord> DecodeExecutionRecord(std::string_view in) {
  ExecutionRecord r;
  auto bad = [] { return Status::Corruption("execution record truncated or unknown version"); };
  if (in.size() < 1 || static_cast<uint8_t>(in[0]) < 1 ||
      static_cast<uint8_t>(in[0]) > kRecordVersion) {
    return bad();
  }
  const uint8_t version = static_cast<uint8_t>(in[0]);
  in.remove_prefix(1);
  if (!GetLengthPrefixed(&in, &r.workflow_id) || !GetLengthPrefixed(&in, &r.workflow_type) ||
      !GetLengthPrefixed(&in, &r.owner) || !GetLengthPrefixed(&in, &r.parent_workflow_id) ||
      in.empty()) {
    return bad();
  }
  auto status = static_cast<uint8_t>(in[0]);
  if (status < 1 || status > 5) return bad();
  r.status = static_cast<ExecutionStatus>(status);
  in.remove_prefix(1);
  int64_t cancel = 0;
  for (int64_t* v : {&r.start_ms, &r.close_ms, &r.updated_ms, &r.next_event_id,
                     &r.activities_scheduled, &r.activities_succeeded, &r.activities_failed,
                     &r.activity_retries, &r.progress_succeeded, &r.progress_failed,
                     &r.progress_canceled, &cancel}) {
    if (!GetSignedVarint64(&in, v)) return bad();
  }
  r.cancel_requested = cancel != 0;
  uint64_t n = 0;
  if (!GetLengthPrefixed(&in, &r.result) || !GetLengthPrefixed(&in, &r.failure) ||
      !GetLengthPrefixed(&in, &r.memo) || !GetSignedVarint64(&in, &r.memo_ms) ||
      !GetVarint64(&in, &n) || n > in.size()) {
    return bad();
  }
  for (uint64_t i = 0; i < n; ++i) {
    ActivityFailureNote f;
    if (!GetSignedVarint64(&in, &f.activity_id) || !GetLengthPrefixed(&in, &f.error) ||
        !GetLengthPrefixed(&in, &f.error_type)) {
      return bad();
    }
    r.first_failures.push_back(std::move(f));
  }
  if (version < 2) return r;
  if (!GetVarint64(&in, &n) || n > in.size()) return bad();
  for (uint64_t i = 0; i < n; ++i) {
    std::string child;
    if (!GetLengthPrefixed(&in, &child)) return bad();
    r.open_children.push_back(std::move(child));
  }
  return r;
}

std::string EncodeActivityRecord(const ActivityRecord& r) {
  std::string out;
  out.push_back(static_cast<char>(r.state));
  PutSignedVarint64(&out, r.attempts);
  PutLengthPrefixed(&out, r.payload);
  PutLengthPrefixed(&out, r.error);
  PutSignedVarint64(&out, r.next_attempt_ms);
  PutSignedVarint64(&out, r.finished_ms);
  return out;
}

Result<ActivityRecord> DecodeActivityRecord(int64_t activity_id, std::string_view in) {
  ActivityRecord r;
  r.activity_id = activity_id;
  if (in.empty() || in[0] < 1 || in[0] > 3) return Status::Corruption("bad activity record");
  r.state = static_cast<ActivityState>(in[0]);
  in.remove_prefix(1);
  if (!GetSignedVarint64(&in, &r.attempts) || !GetLengthPrefixed(&in, &r.payload) ||
      !GetLengthPrefixed(&in, &r.error) || !GetSignedVarint64(&in, &r.next_attempt_ms) ||
      !GetSignedVarint64(&in, &r.finished_ms)) {
    return Status::Corruption("activity record truncated");
  }
  return r;
}

}  // namespace papr::engine
