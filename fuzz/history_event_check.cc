// Stored binary records as read back from RocksDB: the same bytes go to every decoder (they
// all start with a version or state byte, so a seed of one format mutates into the others).
// Whatever decodes must re-encode to bytes that decode to an equal value, and re-encoding
// that value must give the same bytes again (one canonical form per value).
#include <string>
#include <unordered_set>

#include <simdjson.h>

#include "fuzz/fuzz_checks.h"
#include "storage/memory_record.h"
#include "workflows/batch_codec.h"
#if PAPR_WITH_ENGINE
#include "engine/execution_record.h"
#include "engine/history_event.h"
#include "engine/history_rows.h"
#include "engine/payload_format.h"
#include "workflows/durable_batch_payloads.h"
#endif

namespace papr::fuzz {
namespace {

// decode(input) = v  =>  decode(encode(v)) = v' with encode(v') = encode(v) (and v' = v when
// the type has operator==, passed as `equal`).
template <typename T, typename Decode, typename Encode, typename Equal>
std::string CheckRoundTrip(const char* what, std::string_view input, Decode decode,
                           Encode encode, Equal equal) {
  Result<T> first = decode(input);
  if (!first.ok()) {
    if (first.status().code() != StatusCode::kCorruption) {
      return std::string(what) + ": decode failed with a code other than Corruption";
    }
    return "";
  }
  std::string bytes = encode(*first);
  Result<T> second = decode(bytes);
  if (!second.ok()) {
    return std::string(what) + ": its own encoding does not decode: " + second.status().ToString();
  }
  if (!equal(*first, *second)) return std::string(what) + ": decode(encode(x)) != x";
  if (encode(*second) != bytes) return std::string(what) + ": encoding is not canonical";
  return "";
}

template <typename T>
bool OperatorEquals(const T& a, const T& b) {
  return a == b;
}
template <typename T>
bool SameEncoding(const T&, const T&) {
  return true;  // no operator==; the canonical-encoding check compares the bytes
}

#if PAPR_WITH_ENGINE
// The input as the payload (and options) of every kind of batch event: what the history
// surfaces show must be one valid JSON value, and the described line one line.
std::string CheckPayloadFormats(std::string_view input) {
  using namespace engine;
  static const PayloadFormatRegistry* registry = [] {
    auto* r = new PayloadFormatRegistry;
    workflows::RegisterBatchPayloadFormats(r);
    return r;
  }();
  static const EventType kTypes[] = {
#define X(name, number) EventType::k##name,
#include "engine/event_types.def"
#undef X
  };
  constexpr int64_t kWebhookActivity = int64_t{1} << 60;  // the batch's webhook id range
  simdjson::dom::parser parser;
  // Most event types show the input the same way (escaped bytes): each distinct JSON is
  // parsed once per input.
  std::unordered_set<std::string> valid_json;
  for (EventType type : kTypes) {
    for (int64_t activity_id : {int64_t{0}, kWebhookActivity}) {
      HistoryEvent e;
      e.type = type;
      e.activity_id = activity_id;
      e.activity_type = activity_id == 0 ? "process_memory" : "deliver_webhook";
      e.payload = e.options = std::string(input);
      HistoryPayloadReader reader(*registry, "batch_memory", nullptr);
      auto fields = reader.Decode(e);
      for (const auto& field : fields) {
        if (valid_json.contains(field.json)) continue;
        if (parser.parse(field.json).error() != simdjson::SUCCESS) {
          return std::string("decoded ") + field.name + " of " + EventTypeName(type) +
                 " is not valid JSON";
        }
        valid_json.insert(field.json);
      }
      if (DescribeDecodedEvent(e, fields).find('\n') != std::string::npos) {
        return std::string("decoded ") + EventTypeName(type) + " is not one line";
      }
    }
  }
  return "";
}

std::string CheckEngineRecords(std::string_view input) {
  using namespace engine;
  std::string f = CheckRoundTrip<HistoryEvent>("HistoryEvent", input, DecodeEvent, EncodeEvent,
                                               OperatorEquals<HistoryEvent>);
  if (!f.empty()) return f;
  if (Result<HistoryEvent> e = DecodeEvent(input); e.ok()) {
    std::string line = DescribeEvent(*e);
    if (line.empty() || line.find('\n') != std::string::npos) {
      return "DescribeEvent is not one line";
    }
  }
  f = CheckRoundTrip<std::vector<HistoryEvent>>(
      "history row", input,
      [](std::string_view bytes) -> Result<std::vector<HistoryEvent>> {
        std::vector<HistoryEvent> row;
        RETURN_IF_ERROR(DecodeHistoryRow(bytes, &row));
        return row;
      },
      [](const std::vector<HistoryEvent>& row) { return EncodeHistoryRow(row); },
      OperatorEquals<std::vector<HistoryEvent>>);
  if (!f.empty()) return f;
  if (f = CheckPayloadFormats(input); !f.empty()) return f;
  f = CheckRoundTrip<ExecutionRecord>("ExecutionRecord", input, DecodeExecutionRecord,
                                      EncodeExecutionRecord, OperatorEquals<ExecutionRecord>);
  if (!f.empty()) return f;
  constexpr int64_t kActivityId = 7;
  return CheckRoundTrip<ActivityRecord>(
      "ActivityRecord", input,
      [](std::string_view bytes) { return DecodeActivityRecord(kActivityId, bytes); },
      EncodeActivityRecord, SameEncoding<ActivityRecord>);
}
#endif

}  // namespace

std::string CheckHistoryEvent(std::string_view input) {
#if PAPR_WITH_ENGINE
  if (std::string f = CheckEngineRecords(input); !f.empty()) return f;
#endif
  using namespace workflows;
  std::string f = CheckRoundTrip<BatchHeader>("BatchHeader", input, DecodeBatchHeader,
                                              EncodeBatchHeader, SameEncoding<BatchHeader>);
  if (!f.empty()) return f;
  f = CheckRoundTrip<std::vector<MemoryInput>>("memories blob", input, DecodeMemories,
                                               EncodeMemories,
                                               SameEncoding<std::vector<MemoryInput>>);
  if (!f.empty()) return f;
  return CheckRoundTrip<storage::MemoryRecord>(
      "MemoryRecord", input, storage::DecodeMemoryRecord, storage::EncodeMemoryRecord,
      OperatorEquals<storage::MemoryRecord>);
}

}  // namespace papr::fuzz
