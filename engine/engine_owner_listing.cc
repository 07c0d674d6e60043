// Listing an owner's executions by cursor: a seek to the cursor's index key, not a scan from
// the owner's newest execution (which made every page O(executions before it)).
#include <charconv>

#include "engine/internal/engine_rep.h"

namespace papr::engine {
namespace {

// "<id>@<start ms>" -> id, start; false for anything else (e.g. a bare id).
bool ParseOwnerCursor(std::string_view cursor, std::string_view* id, uint64_t* start_ms) {
  size_t at = cursor.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == cursor.size()) return false;
  std::string_view digits = cursor.substr(at + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *start_ms);
  if (ec != std::errc() || end != digits.data() + digits.size()) return false;
  *id = cursor.substr(0, at);
  return true;
}

}  // namespace

std::string Engine::OwnerCursor(const ExecutionRecord& r) {
  return r.workflow_id + "@" + std::to_string(r.start_ms);
}

Result<std::vector<ExecutionRecord>> Engine::ListByOwner(const std::string& owner, int64_t limit,
                                                         const std::string& after) const {
  std::vector<ExecutionRecord> out;
  const std::string prefix = storage::OwnerIndexPrefix(owner);
  std::string from = prefix;  // no cursor: the newest
  std::string skip;           // the cursor's own key, if it still exists
  if (!after.empty()) {
    std::string_view id;
    uint64_t start = 0;
    if (!ParseOwnerCursor(after, &id, &start)) {
      // A bare id (the cursor format before start times): its start time is in its record.
      // An unknown one names nothing to continue after (as before: an empty page).
      auto r = rep_->Describe(after);
      if (r.status().IsNotFound()) return out;
      RETURN_IF_ERROR(r.status());
      id = after;
      start = static_cast<uint64_t>(r->start_ms);
    }
    from = skip = storage::OwnerIndexKey(owner, start, id);
  }
  auto cursor = rep_->db->NewCursor(Table::kVisibility);
  for (cursor->Seek(from); cursor->Valid() && static_cast<int64_t>(out.size()) < limit;
       cursor->Next()) {
    std::string_view key = cursor->key();
    if (key.substr(0, prefix.size()) != prefix) break;
    if (key == skip) continue;
    std::string_view o, id;
    uint64_t start;
    if (!storage::DecodeOwnerIndexKey(key, &o, &start, &id) || o != owner) continue;
    auto record = rep_->Describe(std::string(id));
    if (!record.ok()) continue;  // deleted by retention meanwhile
    out.push_back(std::move(record).value());
  }
  RETURN_IF_ERROR(cursor->status());
  return out;
}

}  // namespace papr::engine
