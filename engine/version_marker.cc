// GetVersion (Temporal's versioning API): a workflow change ships behind a change id, and the
// version each execution runs is recorded once, as a MarkerRecorded "Version" event whose
// payload is the change id and whose `version` field is the version.
#include <string>

#include "engine/internal/execution.h"

namespace papr::engine::internal {
namespace {

constexpr const char* kVersionMarker = "Version";

bool IsVersionMarker(const HistoryEvent& e, const std::string& change_id) {
  return e.type == EventType::kMarkerRecorded && e.signal_name == kVersionMarker &&
         e.payload == change_id;
}

}  // namespace

int64_t Execution::CommandGetVersion(const std::string& change_id, int64_t min_supported,
                                     int64_t max_supported) {
  constexpr int64_t kDefault = WorkflowContext::kDefaultVersion;
  auto known = versions.find(change_id);
  if (known != versions.end()) return known->second;
  if (!replay_error.ok()) return kDefault;
  int64_t version = max_supported;
  int64_t at_event = record.next_event_id;
  if (replaying()) {
    // The marker is where the first call was made live; no marker there means the execution
    // ran this point with the code from before the change.
    const HistoryEvent& next = (*replay)[replay_pos];
    at_event = next.event_id;
    if (IsVersionMarker(next, change_id)) {
      version = next.version;
      ++replay_pos;
      now_ms = next.time_ms;
      record.next_event_id = next.event_id + 1;
    } else {
      version = kDefault;
    }
  } else {
    HistoryEvent e;
    e.type = EventType::kMarkerRecorded;
    e.signal_name = kVersionMarker;
    e.payload = change_id;
    e.version = max_supported;
    if (Command(std::move(e)) == nullptr) return kDefault;
  }
  if (version < min_supported || version > max_supported) {
    replay_error = Status::FailedPrecondition(
        "non-determinism at event " + std::to_string(at_event) + ": GetVersion('" + change_id +
        "') found version " + std::to_string(version) + " but the code supports " +
        std::to_string(min_supported) + ".." + std::to_string(max_supported));
    return kDefault;
  }
  versions[change_id] = version;
  return version;
}

}  // namespace papr::engine::internal
