#include "workflows/batch_types.h"

namespace papr::workflows {

const char* BatchStateName(BatchState s) {
  switch (s) {
    case BatchState::kQueued: return "queued";
    case BatchState::kProcessing: return "processing";
    case BatchState::kCompleted: return "completed";
    case BatchState::kPartial: return "partial";
    case BatchState::kFailed: return "failed";
    case BatchState::kCancelling: return "cancelling";
    case BatchState::kCancelled: return "cancelled";
    case BatchState::kTerminated: return "terminated";
  }
  return "unknown";
}

namespace {
constexpr BatchState kAllStates[] = {
    BatchState::kQueued,  BatchState::kProcessing, BatchState::kCompleted,
    BatchState::kPartial, BatchState::kFailed,     BatchState::kCancelling,
    BatchState::kCancelled, BatchState::kTerminated};
}  // namespace

std::optional<BatchState> ParseBatchState(std::string_view name) {
  if (name == "canceled") return BatchState::kCancelled;
  for (BatchState s : kAllStates) {
    if (name == BatchStateName(s)) return s;
  }
  return std::nullopt;
}

std::vector<std::string> BatchStateNames() {
  std::vector<std::string> out;
  for (BatchState s : kAllStates) out.emplace_back(BatchStateName(s));
  return out;
}

bool IsTerminal(BatchState s) {
  return s == BatchState::kCompleted || s == BatchState::kPartial || s == BatchState::kFailed ||
         s == BatchState::kCancelled || s == BatchState::kTerminated;
}

const char* ItemStateName(ItemState s) {
  switch (s) {
    case ItemState::kPending: return "pending";
    case ItemState::kSucceeded: return "succeeded";
    case ItemState::kFailed: return "failed";
    case ItemState::kCanceled: return "canceled";
  }
  return "unknown";
}

const char* WebhookStateName(WebhookState s) {
  switch (s) {
    case WebhookState::kNone: return "none";
    case WebhookState::kPending: return "pending";
    case WebhookState::kDelivered: return "delivered";
    case WebhookState::kFailed: return "failed";
  }
  return "unknown";
}

}  // namespace papr::workflows
