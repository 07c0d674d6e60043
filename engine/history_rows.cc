#include "engine/history_rows.h"

#include "common/byte_codec.h"
#include "storage/keys.h"

namespace papr::engine {
namespace {

constexpr char kPageTag = 2;  // EncodeEvent's values start with their format version, 1

}  // namespace

std::string EncodeHistoryRow(std::span<const HistoryEvent> events) {
  std::string out(1, kPageTag);
  for (const HistoryEvent& e : events) PutLengthPrefixed(&out, EncodeEvent(e));
  return out;
}

Status DecodeHistoryRow(std::string_view value, std::vector<HistoryEvent>* out) {
  if (value.empty() || value[0] != kPageTag) {
    ASSIGN_OR_RETURN(HistoryEvent e, DecodeEvent(value));
    out->push_back(std::move(e));
    return Status::Ok();
  }
  value.remove_prefix(1);
  if (value.empty()) return Status::Corruption("history page holds no event");
  while (!value.empty()) {
    std::string_view bytes;
    if (!GetLengthPrefixed(&value, &bytes)) return Status::Corruption("history page truncated");
    ASSIGN_OR_RETURN(HistoryEvent e, DecodeEvent(bytes));
    out->push_back(std::move(e));
  }
  return Status::Ok();
}

void StageHistoryRow(storage::WriteBatch& wb, const std::string& workflow_id,
                     std::span<const HistoryEvent> events) {
  auto last = static_cast<uint64_t>(events.back().event_id);
  wb.Put(storage::Table::kHistory, storage::HistoryKey(workflow_id, last),
         EncodeHistoryRow(events));
}

}  // namespace papr::engine
