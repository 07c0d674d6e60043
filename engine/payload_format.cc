#include "engine/payload_format.h"

#include "common/json_writer.h"

namespace papr::engine {
namespace {

constexpr size_t kMaxDescribedJson = 1000;

// The engine's own binary field: the options of ActivityTaskScheduled.
std::optional<std::string> EngineFormat(const PayloadField& field) {
  if (field.name != "options" || field.event.type != EventType::kActivityTaskScheduled) {
    return std::nullopt;
  }
  auto options = DecodeActivityOptions(field.bytes);
  if (!options.ok()) return std::nullopt;
  return ActivityOptionsJson(*options);
}

std::string QuotedEscape(std::string_view bytes) {
  std::string out;
  AppendJsonString(&out, EscapeBytes(bytes));
  return out;
}

}  // namespace

void PayloadFormatRegistry::Register(const std::string& workflow_type,
                                     std::shared_ptr<const PayloadFormatter> f) {
  formatters_[workflow_type] = std::move(f);
}

std::string PayloadFormatRegistry::Format(std::string_view workflow_type,
                                          const PayloadField& field) const {
  auto it = formatters_.find(workflow_type);
  if (it != formatters_.end() && it->second) {
    if (auto json = it->second->Format(field)) return std::move(*json);
  }
  if (auto json = EngineFormat(field)) return std::move(*json);
  return QuotedEscape(field.bytes);
}

HistoryPayloadReader::HistoryPayloadReader(const PayloadFormatRegistry& registry,
                                           std::string workflow_type, EventLookup lookup)
    : registry_(registry), workflow_type_(std::move(workflow_type)), lookup_(std::move(lookup)) {}

std::string HistoryPayloadReader::ActivityType(const HistoryEvent& e) {
  if (e.type == EventType::kActivityTaskScheduled) {
    scheduled_types_[e.event_id] = e.activity_type;
    return e.activity_type;
  }
  if (!IsActivityEvent(e.type) || e.scheduled_event_id <= 0) return "";
  auto it = scheduled_types_.find(e.scheduled_event_id);
  if (it != scheduled_types_.end()) return it->second;
  std::string type;
  if (lookup_) {
    std::optional<HistoryEvent> scheduled = lookup_(e.scheduled_event_id);
    if (scheduled && scheduled->type == EventType::kActivityTaskScheduled) {
      type = scheduled->activity_type;
    }
  }
  scheduled_types_[e.scheduled_event_id] = type;  // also "" (unreadable): read once
  return type;
}

std::vector<DecodedField> HistoryPayloadReader::Decode(const HistoryEvent& e) {
  std::string activity_type = ActivityType(e);
  std::vector<DecodedField> out;
  for (auto [name, bytes] : {std::pair<const char*, const std::string*>{"payload", &e.payload},
                             {"options", &e.options}}) {
    if (bytes->empty()) continue;
    PayloadField field{e, name, *bytes, activity_type};
    out.push_back({name, registry_.Format(workflow_type_, field)});
  }
  return out;
}

std::string DescribeDecodedEvent(const HistoryEvent& event,
                                 const std::vector<DecodedField>& fields) {
  return DescribeEvent(event, [&](std::string_view name) -> std::optional<std::string> {
    for (const auto& f : fields) {
      if (f.name != name) continue;
      if (f.json.size() <= kMaxDescribedJson) return f.json;
      return f.json.substr(0, kMaxDescribedJson) + "...";
    }
    return std::nullopt;
  });
}

std::string ActivityOptionsJson(const ActivityOptions& o) {
  JsonWriter w;
  w.BeginObject().Key("retry_policy").BeginObject();
  w.Field("initial_interval_ms", o.retry.initial_interval_ms);
  w.Key("backoff_coefficient").Double(o.retry.backoff_coefficient);
  w.Field("maximum_interval_ms", o.retry.maximum_interval_ms);
  w.Field("maximum_attempts", o.retry.maximum_attempts);
  w.Key("non_retryable_error_types").BeginArray();
  for (const auto& t : o.retry.non_retryable_error_types) w.String(t);
  w.EndArray().EndObject();
  w.Field("start_to_close_timeout_ms", o.start_to_close_timeout_ms);
  w.Field("schedule_to_close_timeout_ms", o.schedule_to_close_timeout_ms);
  w.EndObject();
  return w.Take();
}

std::string EscapeBytes(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  auto printable = [](unsigned char c) { return c >= 0x20 && c < 0x7f && c != '\\'; };
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    size_t run = i;  // printable runs are appended at once
    while (run < bytes.size() && printable(static_cast<unsigned char>(bytes[run]))) ++run;
    out.append(bytes.data() + i, run - i);
    if (run == bytes.size()) break;
    auto c = static_cast<unsigned char>(bytes[run]);
    out += "\\x";
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
    i = run + 1;
  }
  return out;
}

}  // namespace papr::engine
