#include "engine/internal/history_loader.h"

#include "engine/history_rows.h"
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
        size_t first = history.size();
        if (Status s = DecodeHistoryRow(value, &history); !s.ok()) {
          problem = Status::Corruption(where(history.size() + 1) + " does not decode: " + s.message());
          return false;
        }
        for (size_t i = first; i < history.size(); ++i) {
          if (history[i].event_id != static_cast<int64_t>(i + 1)) {
            problem = Status::Corruption(
                "history of workflow " + workflow_id + " has a gap: event " +
                std::to_string(i + 1) + " is missing (next stored event is " +
                std::to_string(history[i].event_id) + ")");
            return false;
          }
        }
        if (history.size() != key_id) {
          problem = Status::Corruption("the history row " + std::to_string(key_id) +
                                       " of workflow " + workflow_id + " ends with event " +
                                       std::to_string(history.size()));
          return false;
        }
        return true;
      }));
  RETURN_IF_ERROR(problem);
  return history;
}

Result<HistoryEvent> LoadFirstEvent(const storage::Db& db, const std::string& workflow_id) {
  std::vector<HistoryEvent> row;
  Status decoded = Status::NotFound("workflow " + workflow_id + " has no history");
  RETURN_IF_ERROR(db.ScanPrefix(storage::Table::kHistory, storage::HistoryPrefix(workflow_id),
                                [&](std::string_view, std::string_view value) {
                                  decoded = DecodeHistoryRow(value, &row);
                                  return false;
                                }));
  if (row.empty()) return decoded;  // NotFound, or the Corruption of the first event
  return std::move(row.front());
}

}  // namespace papr::engine::internal
