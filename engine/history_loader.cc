#include "engine/internal/history_loader.h"

#include "storage/keys.h"

namespace papr::engine::internal {

Result<std::vector<HistoryEvent>> LoadHistory(const storage::Db& db,
                                              const std::string& workflow_id) {
  std::vector<HistoryEvent> history;
  Status problem;
  auto where = [&](uint64_t id) {
    return "event " + std::to_string(id) + " of workflow " + workflow_id;
  };
  RETURN_IF_ERROR(db.ScanPrefix(
      storage::Table::kHistory, storage::HistoryPrefix(workflow_id),
      [&](std::string_view key, std::string_view value) {
        std::string_view wf;
        uint64_t key_id = 0;
        if (!storage::DecodeHistoryKey(key, &wf, &key_id)) {
          problem = Status::Corruption("a history key of workflow " + workflow_id +
                                       " does not decode");
          return false;
        }
        uint64_t expected = history.size() + 1;
        if (key_id != expected) {
          problem = Status::Corruption(
              "history of workflow " + workflow_id + " has a gap: event " +
              std::to_string(expected) + " is missing (next stored event is " +
              std::to_string(key_id) + ")");
          return false;
        }
        auto e = DecodeEvent(value);
        if (!e.ok()) {
          problem = Status::Corruption(where(key_id) + " does not decode: " +
                                       e.status().message());
          return false;
        }
        if (e->event_id != static_cast<int64_t>(key_id)) {
          problem = Status::Corruption(where(key_id) + " records event id " +
                                       std::to_string(e->event_id));
          return false;
        }
        history.push_back(std::move(e).value());
        return true;
      }));
  RETURN_IF_ERROR(problem);
  return history;
}

}  // namespace papr::engine::internal
