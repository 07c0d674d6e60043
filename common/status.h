#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace papr {

//! The outcome of an operation that can fail, as a value (LevelDB/abseil style).
//! Each code says whether a caller may retry. OK carries no message and costs nothing.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // Bad input. Do not retry unchanged.
  kNotFound,            // The thing does not exist (or belongs to another user).
  kAlreadyExists,       // A create found the key taken. Not retryable.
  kFailedPrecondition,  // State does not allow it now (e.g. batch already finished).
  kResourceExhausted,   // Queue full / over a limit. Retry later (429/503).
  kPayloadTooLarge,     // Over a size limit (413). Not retryable unchanged.
  kUnauthenticated,     // Missing or unknown key (401).
  kUnavailable,         // Transient I/O or remote failure. Retry with backoff.
  kDeadlineExceeded,    // Timed out. Retry with backoff.
  kIoError,             // Storage failure. The store may be read-only now.
  kCorruption,          // Stored data does not decode. Needs an operator.
  kInternal,            // A bug. Not retryable.
  // The write carried a Fence whose range_id is no longer the shard's: another node owns
  // the shard now. Nothing of the write was applied. Do not retry: drop the shard (stop
  // serving it, discard its in-memory state); its new owner replays it from the store.
  kOwnershipLost,
  // The connection died while the store committed: the write may or may not be applied.
  // Never report it as failed or succeeded on a guess; re-read what it wrote (rebuild the
  // in-memory state from the store) before acting. A blind retry is safe only for writes
  // that are idempotent (Put/Delete of fixed values); an Insert or AddCounters retried
  // blindly may fail with AlreadyExists or count twice.
  kUnknownOutcome,
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status PayloadTooLarge(std::string m) { return {StatusCode::kPayloadTooLarge, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) {
    return {StatusCode::kDeadlineExceeded, std::move(m)};
  }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status OwnershipLost(std::string m) { return {StatusCode::kOwnershipLost, std::move(m)}; }
  static Status UnknownOutcome(std::string m) {
    return {StatusCode::kUnknownOutcome, std::move(m)};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }
  std::string ToString() const;

  // Explicitly drops the status; greppable, as RocksDB's PermitUncheckedError.
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

}  // namespace papr

#define PAPR_CONCAT_INNER(a, b) a##b
#define PAPR_CONCAT(a, b) PAPR_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                  \
  do {                                         \
    ::papr::Status papr_status_ = (expr);      \
    if (!papr_status_.ok()) return papr_status_; \
  } while (0)

#define CO_RETURN_IF_ERROR(expr)                  \
  do {                                            \
    ::papr::Status papr_status_ = (expr);         \
    if (!papr_status_.ok()) co_return papr_status_; \
  } while (0)
