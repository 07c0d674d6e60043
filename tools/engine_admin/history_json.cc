#include "tools/engine_admin/history_json.h"

#include <set>

#include <simdjson.h>

#include "common/crypto.h"
#include "common/json_writer.h"
#include "tools/engine_admin/text_util.h"

namespace papr::engine_admin {
namespace {

using engine::EventType;
using engine::HistoryEvent;

// Str fields whose content is binary by design: always base64.
bool AlwaysBase64(std::string_view field) { return field == "payload" || field == "options"; }

void WriteStr(JsonWriter& w, const char* name, const std::string& v) {
  if (v.empty()) return;
  if (AlwaysBase64(name) || !IsValidUtf8(v)) {
    w.Field(std::string(name) + "_b64", Base64Encode(v));
  } else {
    w.Field(name, v);
  }
}

// The activity_id of an activity event is shown even when 0 (it is not stored then).
void WriteInt(JsonWriter& w, const char* name, int64_t v, bool always) {
  if (v != 0 || always) w.Field(name, v);
}

void WriteDecoded(JsonWriter& w, const std::vector<engine::DecodedField>& fields) {
  if (fields.empty()) return;
  w.Key("decoded").BeginObject();
  for (const auto& f : fields) w.FieldRaw(f.name, f.json);
  w.EndObject();
}

std::string EncodeOne(const HistoryEvent& e, const std::vector<engine::DecodedField>* decoded) {
  const bool activity = engine::IsActivityEvent(e.type);
  JsonWriter w;
  w.BeginObject()
      .Field("event_id", e.event_id)
      .Field("type", engine::EventTypeName(e.type))
      .Field("time_ms", e.time_ms);
#define F_Int(name) \
  WriteInt(w, #name, e.name, activity && std::string_view(#name) == "activity_id");
#define F_Str(name) WriteStr(w, #name, e.name);
#define F(name, number, kind) F_##kind(name)
#include "engine/event_fields.def"
#undef F
#undef F_Int
#undef F_Str
  if (decoded != nullptr) WriteDecoded(w, *decoded);
  w.EndObject();
  return w.Take();
}

bool ParseEventType(std::string_view name, EventType* out) {
#define X(type_name, number)        \
  if (name == #type_name) {         \
    *out = EventType::k##type_name; \
    return true;                    \
  }
#include "engine/event_types.def"
#undef X
  return false;
}

//! Decodes the members of one event object; remembers which fields it has seen.
class EventDecoder {
 public:
  explicit EventDecoder(size_t index) : where_("event #" + std::to_string(index)) {}

  Status Member(std::string_view key, simdjson::dom::element value, HistoryEvent* e) {
    std::string field(key);
    bool b64 = field.size() > 4 && field.compare(field.size() - 4, 4, "_b64") == 0;
    std::string base = b64 ? field.substr(0, field.size() - 4) : field;
    if (!seen_.insert(base).second) return Error(key, "given twice");
    if (key == "event_id") return Int(key, value, &e->event_id);
    if (key == "time_ms") return Int(key, value, &e->time_ms);
    if (key == "type") return Type(value, e);
    if (key == "decoded") return Decoded(value);
#define F_Int(name) \
  if (key == #name) return Int(key, value, &e->name);
#define F_Str(name) \
  if (base == #name) return Str(key, value, b64, &e->name);
#define F(name, number, kind) F_##kind(name)
#include "engine/event_fields.def"
#undef F
#undef F_Int
#undef F_Str
    return Error(key, "is not a field of papr.history/v1");
  }

  Status Finish() const {
    for (const char* required : {"event_id", "type", "time_ms"}) {
      if (seen_.count(required) == 0)
        return Status::InvalidArgument(where_ + " has no " + required);
    }
    return Status::Ok();
  }

 private:
  Status Error(std::string_view key, const std::string& what) const {
    return Status::InvalidArgument(where_ + ": \"" + std::string(key) + "\" " + what);
  }
  Status Int(std::string_view key, simdjson::dom::element v, int64_t* out) const {
    if (v.get_int64().get(*out) != simdjson::SUCCESS) return Error(key, "is not an int64");
    return Status::Ok();
  }
  Status Str(std::string_view key, simdjson::dom::element v, bool b64, std::string* out) const {
    std::string_view s;
    if (v.get_string().get(s) != simdjson::SUCCESS) return Error(key, "is not a string");
    if (!b64) {
      *out = std::string(s);
    } else if (!Base64Decode(s, out)) {
      return Error(key, "is not valid base64");
    }
    return Status::Ok();
  }
  // Derived from the bytes when written; never read back.
  Status Decoded(simdjson::dom::element v) const {
    if (!v.is_object()) return Error("decoded", "is not an object");
    return Status::Ok();
  }
  Status Type(simdjson::dom::element v, HistoryEvent* e) const {
    std::string_view name;
    if (v.get_string().get(name) != simdjson::SUCCESS || !ParseEventType(name, &e->type)) {
      return Error("type", "is not a known event type name");
    }
    return Status::Ok();
  }

  std::string where_;
  std::set<std::string> seen_;
};

}  // namespace

std::string EncodeHistoryJson(const std::string& workflow_id,
                              const std::vector<HistoryEvent>& events,
                              const std::vector<std::vector<engine::DecodedField>>* decoded) {
  std::string out = "{\"format\":";
  AppendJsonString(&out, kHistoryFormat);
  out += ",\"workflow_id\":";
  AppendJsonString(&out, workflow_id);
  out += ",\"events\":[\n";
  for (size_t i = 0; i < events.size(); ++i) {
    bool has_decoded = decoded != nullptr && i < decoded->size();
    out += EncodeOne(events[i], has_decoded ? &(*decoded)[i] : nullptr);
    out += i + 1 < events.size() ? ",\n" : "\n";
  }
  out += "]}\n";
  return out;
}

Result<HistoryDocument> DecodeHistoryJson(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::padded_string padded(text);
  if (auto err = parser.parse(padded).get(root); err != simdjson::SUCCESS) {
    return Status::InvalidArgument(std::string("not valid JSON: ") + simdjson::error_message(err));
  }
  std::string_view format, workflow_id;
  if (root["format"].get_string().get(format) != simdjson::SUCCESS || format != kHistoryFormat) {
    return Status::InvalidArgument(std::string("\"format\" must be \"") + kHistoryFormat + "\"");
  }
  if (root["workflow_id"].get_string().get(workflow_id) != simdjson::SUCCESS) {
    return Status::InvalidArgument("\"workflow_id\" must be a string");
  }
  simdjson::dom::array events;
  if (root["events"].get_array().get(events) != simdjson::SUCCESS) {
    return Status::InvalidArgument("\"events\" must be an array");
  }
  HistoryDocument doc;
  doc.workflow_id = std::string(workflow_id);
  size_t index = 0;
  for (simdjson::dom::element item : events) {
    simdjson::dom::object object;
    if (item.get_object().get(object) != simdjson::SUCCESS) {
      return Status::InvalidArgument("event #" + std::to_string(index) + " is not an object");
    }
    EventDecoder decoder(index++);
    HistoryEvent e;
    for (auto field : object)
      RETURN_IF_ERROR(decoder.Member(field.key, field.value, &e));
    RETURN_IF_ERROR(decoder.Finish());
    doc.events.push_back(std::move(e));
  }
  return doc;
}

}  // namespace papr::engine_admin
