#include "engine/internal/command_compare.h"

#include <cstdint>

namespace papr::engine::internal {
namespace {

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

std::string BytesDiffer(const char* what, const std::string& recorded, const std::string& issued) {
  if (recorded == issued) return "";
  return std::string(what) + " differs (recorded " + std::to_string(recorded.size()) +
         " bytes, issued " + std::to_string(issued.size()) + " bytes)";
}

std::string TextDiffers(const char* what, const std::string& recorded, const std::string& issued) {
  if (recorded == issued) return "";
  return std::string(what) + " differs (recorded " + Quoted(recorded) + ", issued " +
         Quoted(issued) + ")";
}

std::string IntDiffers(const char* what, int64_t recorded, int64_t issued) {
  if (recorded == issued) return "";
  return std::string(what) + " differs (recorded " + std::to_string(recorded) + ", issued " +
         std::to_string(issued) + ")";
}

// The first non-empty difference.
std::string First(std::initializer_list<std::string> diffs) {
  for (const auto& d : diffs) {
    if (!d.empty()) return d;
  }
  return "";
}

}  // namespace

std::string CommandMismatch(const HistoryEvent& recorded, const HistoryEvent& proposed) {
  if (recorded.type != proposed.type) {
    return std::string("event type differs (recorded ") + EventTypeName(recorded.type) +
           ", issued " + EventTypeName(proposed.type) + ")";
  }
  const HistoryEvent& r = recorded;
  const HistoryEvent& p = proposed;
  switch (p.type) {
    case EventType::kActivityTaskScheduled:
      return First({IntDiffers("activity id", r.activity_id, p.activity_id),
                    TextDiffers("activity type", r.activity_type, p.activity_type),
                    BytesDiffer("activity input", r.payload, p.payload),
                    BytesDiffer("activity options", r.options, p.options)});
    case EventType::kTimerStarted:
      // The duration, not the firing time: a replay runs at another wall-clock time.
      return First({IntDiffers("timer id", r.timer_id, p.timer_id),
                    IntDiffers("timer duration in ms", r.fire_at_ms - r.time_ms,
                               p.fire_at_ms - p.time_ms)});
    case EventType::kStartChildWorkflowExecutionInitiated:
      return First({TextDiffers("child workflow id", r.child_workflow_id, p.child_workflow_id),
                    TextDiffers("child workflow type", r.workflow_type, p.workflow_type),
                    BytesDiffer("child input", r.payload, p.payload)});
    case EventType::kMarkerRecorded:
      return First({TextDiffers("marker name", r.signal_name, p.signal_name),
                    BytesDiffer("marker details", r.payload, p.payload),
                    IntDiffers("marker version", r.version, p.version)});
    default:
      return "";  // closing commands: the type is the command
  }
}

}  // namespace papr::engine::internal
