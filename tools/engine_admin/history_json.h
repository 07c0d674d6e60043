#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "engine/history_event.h"
#include "engine/payload_format.h"

namespace papr::engine_admin {

// The one JSON form of a history, shared by `export`, `history --json` and `replay --file`
// (README.md of this directory is its reference):
//
//   {"format":"papr.history/v1","workflow_id":"...","events":[
//   {"event_id":1,"type":"WorkflowExecutionStarted","time_ms":...,"workflow_type":"...",...},
//   ...
//   ]}
//
// Each event has event_id, type (EventTypeName) and time_ms, then every non-empty attribute
// of event_fields.def under its field name: Int fields as JSON numbers; Str fields as JSON
// strings, except that `payload` and `options` (binary by design) are always base64 under
// "payload_b64" / "options_b64", and any other Str field that is not valid UTF-8 is base64
// under "<name>_b64". activity_id is written for every activity event, 0 included. With
// decoded payloads, an event with binary fields also has "decoded": {"payload": <JSON>,
// "options": <JSON>} (what the workflow type's PayloadFormatter reads in them): informational,
// the decoder checks it is an object and ignores it (the bytes are the truth). The decoder
// accepts both spellings of every Str field and rejects unknown keys, so a file written by a
// newer schema fails loudly instead of losing fields.
inline constexpr const char* kHistoryFormat = "papr.history/v1";

//! A decoded history document.
struct HistoryDocument {
  std::string workflow_id;
  std::vector<engine::HistoryEvent> events;
};

// One event per line (easy to diff and edit), ending with a newline. `decoded` (optional):
// one entry per event, from engine::HistoryPayloadReader.
std::string EncodeHistoryJson(
    const std::string& workflow_id, const std::vector<engine::HistoryEvent>& events,
    const std::vector<std::vector<engine::DecodedField>>* decoded = nullptr);
// InvalidArgument naming the event index and key for anything malformed.
Result<HistoryDocument> DecodeHistoryJson(std::string_view text);

}  // namespace papr::engine_admin
