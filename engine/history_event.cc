#include "engine/history_event.h"

#include "common/byte_codec.h"

namespace papr::engine {
namespace {

constexpr uint8_t kEventFormatVersion = 1;

enum FieldNumber : uint64_t {
#define F(name, number, kind) kField_##name = number,
#include "engine/event_fields.def"
#undef F
};

void PutInt(std::string* out, uint64_t field, int64_t v) {
  if (v == 0) return;
  PutVarint64(out, field);
  PutSignedVarint64(out, v);
}

void PutStr(std::string* out, uint64_t field, const std::string& v) {
  if (v.empty()) return;
  PutVarint64(out, field);
  PutLengthPrefixed(out, v);
}

bool GetInt(std::string_view* in, int64_t* v) { return GetSignedVarint64(in, v); }
bool GetStr(std::string_view* in, std::string* v) { return GetLengthPrefixed(in, v); }

// Printable ASCII as is, every other byte as \xNN (payloads are often binary), at most ~80
// characters.
std::string Abbreviate(const std::string& s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (out.size() >= 77) return out + "...";
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

}  // namespace

const char* EventTypeName(EventType type) {
  switch (type) {
#define X(name, number) \
  case EventType::k##name: return #name;
#include "engine/event_types.def"
#undef X
  }
  return "Unknown";
}

bool IsKnownEventType(uint8_t number) {
  switch (number) {
#define X(name, number) case number:
#include "engine/event_types.def"
#undef X
    return true;
  }
  return false;
}

bool IsActivityEvent(EventType type) {
  switch (type) {
    case EventType::kActivityTaskScheduled:
    case EventType::kActivityTaskStarted:
    case EventType::kActivityTaskCompleted:
    case EventType::kActivityTaskFailed:
    case EventType::kActivityTaskTimedOut:
      return true;
    default:
      return false;
  }
}

std::string EncodeEvent(const HistoryEvent& e) {
  std::string out;
  out.push_back(static_cast<char>(kEventFormatVersion));
  out.push_back(static_cast<char>(e.type));
  PutVarint64(&out, static_cast<uint64_t>(e.event_id));
  PutSignedVarint64(&out, e.time_ms);
#define F(name, number, kind) Put##kind(&out, kField_##name, e.name);
#include "engine/event_fields.def"
#undef F
  return out;
}

Result<HistoryEvent> DecodeEvent(std::string_view in) {
  if (in.size() < 2) return Status::Corruption("history event too short");
  if (static_cast<uint8_t>(in[0]) != kEventFormatVersion) {
    return Status::Corruption("history event has unknown format version " +
                              std::to_string(static_cast<uint8_t>(in[0])));
  }
  auto type = static_cast<uint8_t>(in[1]);
  if (!IsKnownEventType(type)) {
    return Status::Corruption("unknown history event type " + std::to_string(type));
  }
  in.remove_prefix(2);
  HistoryEvent e;
  e.type = static_cast<EventType>(type);
  uint64_t id;
  if (!GetVarint64(&in, &id) || !GetSignedVarint64(&in, &e.time_ms)) {
    return Status::Corruption("history event header truncated");
  }
  e.event_id = static_cast<int64_t>(id);
  while (!in.empty()) {
    uint64_t field;
    if (!GetVarint64(&in, &field)) return Status::Corruption("history event field truncated");
    bool ok = false;
    switch (field) {
#define F(name, number, kind) \
  case number: ok = Get##kind(&in, &e.name); break;
#include "engine/event_fields.def"
#undef F
      default:
        return Status::Corruption("history event has unknown field " + std::to_string(field));
    }
    if (!ok) return Status::Corruption("history event field " + std::to_string(field) + " truncated");
  }
  return e;
}

std::string DescribeEvent(const HistoryEvent& e) { return DescribeEvent(e, nullptr); }

std::string DescribeEvent(const HistoryEvent& e, const FieldText& shown) {
  std::string out = std::to_string(e.event_id) + " " + EventTypeName(e.type);
  const bool activity = IsActivityEvent(e.type);
  auto add_int = [&](std::string_view name, int64_t v) {
    if (v == 0 && !(activity && name == "activity_id")) return;
    out += " " + std::string(name) + "=" + std::to_string(v);
  };
  auto add_str = [&](const char* name, const std::string& v) {
    if (v.empty()) return;
    std::optional<std::string> text = shown ? shown(name) : std::nullopt;
    out += std::string(" ") + name + "=" + (text ? *text : Abbreviate(v));
  };
#define F_Int add_int
#define F_Str add_str
#define F(name, number, kind) F_##kind(#name, e.name);
#include "engine/event_fields.def"
#undef F
#undef F_Int
#undef F_Str
  return out;
}

}  // namespace papr::engine
