#include "tools/engine_admin/payload_view.h"

#include "workflows/durable_batch_payloads.h"

namespace papr::engine_admin {

const engine::PayloadFormatRegistry& PayloadFormats() {
  static const engine::PayloadFormatRegistry* registry = [] {
    auto* r = new engine::PayloadFormatRegistry;
    workflows::RegisterBatchPayloadFormats(r);
    return r;
  }();
  return *registry;
}

std::vector<std::vector<engine::DecodedField>> DecodePayloads(
    const engine::Engine& engine, const std::string& workflow_id,
    const std::vector<engine::HistoryEvent>& events) {
  std::string type;
  if (auto record = engine.Describe(workflow_id); record.ok()) type = record->workflow_type;
  engine::HistoryPayloadReader reader(
      PayloadFormats(), type,
      [&](int64_t event_id) -> std::optional<engine::HistoryEvent> {
        auto one = engine.ReadHistory(workflow_id, event_id - 1, 1);
        if (!one.ok() || one->empty()) return std::nullopt;
        return one->front();
      });
  std::vector<std::vector<engine::DecodedField>> out;
  out.reserve(events.size());
  for (const auto& e : events) out.push_back(reader.Decode(e));
  return out;
}

}  // namespace papr::engine_admin
