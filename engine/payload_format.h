#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/history_event.h"
#include "engine/retry_policy.h"

namespace papr::engine {

//! One binary attribute of a history event (`payload` or `options`), as a formatter is asked
//! to read it.
struct PayloadField {
  const HistoryEvent& event;
  std::string_view name;           // the field's name in event_fields.def
  std::string_view bytes;          // its stored value
  std::string_view activity_type;  // of the activity an ActivityTask* event is about; "" if unknown
};

//! How the payloads of one workflow type read: (event, field, bytes) -> JSON. The module that
//! defines a workflow registers one for its type (beside RegisterWorkflow), so the engine
//! needs no knowledge of what its workflows carry. Implementations are thread-safe and treat
//! the bytes as hostile (a history may be corrupt or hand-edited): never crash, never throw.
class PayloadFormatter {
 public:
  virtual ~PayloadFormatter() = default;
  // One JSON value (usually an object) for the field, or nullopt when this formatter does not
  // know the field or the bytes do not decode.
  virtual std::optional<std::string> Format(const PayloadField& field) const = 0;
};

//! Workflow type -> its PayloadFormatter. Filled before use, then only read (concurrent reads
//! are safe).
class PayloadFormatRegistry {
 public:
  void Register(const std::string& workflow_type, std::shared_ptr<const PayloadFormatter> f);
  // The JSON value shown for the field: the workflow type's formatter; else the engine's own
  // formats (`options`: the ActivityOptions); else the bytes as a JSON string escaped by
  // EscapeBytes.
  std::string Format(std::string_view workflow_type, const PayloadField& field) const;

 private:
  std::map<std::string, std::shared_ptr<const PayloadFormatter>, std::less<>> formatters_;
};

//! A decoded binary field: its name and JSON value.
struct DecodedField {
  std::string name;
  std::string json;
};

//! Decodes the binary fields of one execution's events for display (API, console,
//! engine-admin). Finds the activity type of each ActivityTask* event from the
//! ActivityTaskScheduled event it refers to: seen earlier through Decode, else read with
//! `lookup` (for pages that start after it). Call Decode in event order. Not thread-safe.
class HistoryPayloadReader {
 public:
  // The event with this id of the same execution, or nullopt (unreadable, absent).
  using EventLookup = std::function<std::optional<HistoryEvent>(int64_t event_id)>;

  HistoryPayloadReader(const PayloadFormatRegistry& registry, std::string workflow_type,
                       EventLookup lookup);

  // The non-empty binary fields of `event` (payload, options), in field order.
  std::vector<DecodedField> Decode(const HistoryEvent& event);
  // The type of the activity `event` is about ("" for other events or when unknown).
  std::string ActivityType(const HistoryEvent& event);

 private:
  const PayloadFormatRegistry& registry_;
  std::string workflow_type_;
  EventLookup lookup_;
  std::unordered_map<int64_t, std::string> scheduled_types_;  // scheduled event id -> type
};

// DescribeEvent's line with each decoded field shown as `name=<JSON>` (at most ~1000
// characters) instead of its bytes.
std::string DescribeDecodedEvent(const HistoryEvent& event,
                                 const std::vector<DecodedField>& fields);

// ActivityOptions as JSON: {"retry_policy":{...},"start_to_close_timeout_ms":N,...}.
std::string ActivityOptionsJson(const ActivityOptions& options);

// Printable ASCII as is, every other byte (and the backslash) as \xNN.
std::string EscapeBytes(std::string_view bytes);

}  // namespace papr::engine
