#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace papr::engine {

enum class EventType : uint8_t {
#define X(name, number) k##name = number,
#include "engine/event_types.def"
#undef X
};
const char* EventTypeName(EventType type);
// True for types the schema knows.
bool IsKnownEventType(uint8_t number);
// True for the ActivityTask* types: they always name their activity_id, 0 included (0 is not
// encoded, as every zero field, so it must be shown from the type, not from the bytes).
bool IsActivityEvent(EventType type);

//! One entry of an execution's append-only history. Ids are dense from 1.
struct HistoryEvent {
  int64_t event_id = 0;
  EventType type = EventType::kWorkflowExecutionStarted;
  int64_t time_ms = 0;
#define F_Int int64_t
#define F_Str std::string
#define F(name, number, kind) F_##kind name{};
#include "engine/event_fields.def"
#undef F
#undef F_Int
#undef F_Str

  bool operator==(const HistoryEvent&) const = default;
};

// Compact binary form: version byte, type, varint id, varint time, then (field number, value)
// pairs for non-zero fields. Unknown field numbers are a Corruption (written by a newer build).
std::string EncodeEvent(const HistoryEvent& event);
Result<HistoryEvent> DecodeEvent(std::string_view bytes);

// One readable line, e.g. "12 ActivityTaskCompleted activity_id=3 attempt=1 payload=...".
// Zero and empty fields are left out, except activity_id of activity events.
std::string DescribeEvent(const HistoryEvent& event);
// The same line with `shown(field)` as the text of each non-empty Str field it answers for
// (e.g. a decoded payload), in its place; the abbreviated bytes for the others.
using FieldText = std::function<std::optional<std::string>(std::string_view field)>;
std::string DescribeEvent(const HistoryEvent& event, const FieldText& shown);

}  // namespace papr::engine
