#pragma once
// Non-determinism detection: is the command the workflow code issues during replay the one
// its history recorded? Internal: include only from engine/*.cc.

#include <string>

#include "engine/history_event.h"

namespace papr::engine::internal {

// Empty when `proposed` is the command `recorded` records; otherwise what differs, e.g.
// "activity input differs (recorded 8 bytes, issued 9 bytes)". Compares the whole command:
// activity type, id, input and encoded options; timer id and duration; child id, type and
// input; marker name, details and version. Recorded bytes are compared directly (no hashing).
std::string CommandMismatch(const HistoryEvent& recorded, const HistoryEvent& proposed);

}  // namespace papr::engine::internal
