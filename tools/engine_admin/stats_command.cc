// stats: counts of the engine's tables, and on RocksDB the bytes of the database directory.

#include <filesystem>
#include <optional>

#include "common/json_writer.h"
#include "storage/keys.h"
#include "tools/engine_admin/admin_store.h"
#include "tools/engine_admin/commands.h"

namespace papr::engine_admin {
namespace {

using engine::ExecutionStatus;
using storage::Table;

//! What stats counts in the engine's tables.
struct TableCounts {
  std::vector<std::pair<ExecutionStatus, int64_t>> by_status;
  int64_t executions = 0, events = 0, event_bytes = 0, timers = 0, blobs = 0, blob_bytes = 0;
};

//! The RocksDB database directory's size (PostgreSQL's is the server's business).
struct DiskUse {
  int64_t estimate = 0;  // Db::ApproximateDiskBytes
  int64_t dir_bytes = 0;
};

// Bytes of the files in the database directory. Db::ApproximateDiskBytes counts SST files
// only when the database is opened read-only (it cannot list the WAL then).
int64_t DirectoryBytes(const std::string& data_dir) {
  int64_t total = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(data_dir + "/db", ec)) {
    std::error_code size_ec;
    if (entry.is_regular_file(size_ec)) total += static_cast<int64_t>(entry.file_size(size_ec));
  }
  return total;
}

// A workflow's history rows are keyed by their last event's id and ids are dense from 1
// (engine/history_rows.h): its event count is the id of its last row.
Status CountHistoryEvents(const storage::Db& db, int64_t* events) {
  std::string workflow;
  uint64_t last = 0;
  RETURN_IF_ERROR(db.ScanPrefix(Table::kHistory, "", [&](std::string_view key, std::string_view) {
    std::string_view wf;
    uint64_t id = 0;
    if (!storage::DecodeHistoryKey(key, &wf, &id)) return true;
    if (wf != workflow) {
      *events += static_cast<int64_t>(last);
      workflow.assign(wf);
    }
    last = id;
    return true;
  }));
  *events += static_cast<int64_t>(last);
  return Status::Ok();
}

Result<TableCounts> CountTables(const storage::Db& db) {
  TableCounts c;
  for (auto s : {ExecutionStatus::kRunning, ExecutionStatus::kCompleted, ExecutionStatus::kFailed,
                 ExecutionStatus::kCanceled, ExecutionStatus::kTerminated}) {
    int64_t count = 0;
    RETURN_IF_ERROR(
        db.ScanPrefix(Table::kVisibility, storage::VisibilityStatusPrefix(static_cast<uint8_t>(s)),
                      [&](std::string_view, std::string_view) { return ++count, true; }));
    c.by_status.emplace_back(s, count);
    c.executions += count;
  }
  auto count_table = [&](Table t, int64_t* keys, int64_t* bytes) {
    return db.ScanPrefix(t, "", [&](std::string_view, std::string_view value) {
      ++*keys;
      *bytes += static_cast<int64_t>(value.size());
      return true;
    });
  };
  int64_t timer_bytes = 0, history_rows = 0;
  RETURN_IF_ERROR(count_table(Table::kHistory, &history_rows, &c.event_bytes));
  RETURN_IF_ERROR(CountHistoryEvents(db, &c.events));
  RETURN_IF_ERROR(count_table(Table::kTimers, &c.timers, &timer_bytes));
  RETURN_IF_ERROR(count_table(Table::kBlobs, &c.blobs, &c.blob_bytes));
  return c;
}

std::string StatsJson(const TableCounts& c, const std::string& backend,
                      const std::optional<DiskUse>& disk) {
  JsonWriter w;
  w.BeginObject().Field("backend", backend).Key("executions").BeginObject();
  for (const auto& [s, n] : c.by_status)
    w.Field(ExecutionStatusName(s), n);
  w.Field("total", c.executions).EndObject();
  w.Field("history_events", c.events).Field("history_bytes", c.event_bytes);
  w.Field("timers", c.timers).Field("blobs", c.blobs).Field("blob_bytes", c.blob_bytes);
  if (disk) {
    w.Field("disk_bytes", disk->estimate).Field("db_dir_bytes", disk->dir_bytes);
  } else {
    w.Key("disk_bytes").Null().Key("db_dir_bytes").Null();
  }
  w.EndObject();
  return w.Take() + "\n";
}

std::string StatsText(const TableCounts& c, const std::string& data_dir,
                      const std::optional<DiskUse>& disk) {
  std::string text = "executions:     " + std::to_string(c.executions) + " (";
  for (size_t i = 0; i < c.by_status.size(); ++i) {
    text += std::string(i ? ", " : "") + ExecutionStatusName(c.by_status[i].first) + " " +
            std::to_string(c.by_status[i].second);
  }
  text += ")\nhistory events: " + std::to_string(c.events) + " (" +
          std::to_string(c.event_bytes) + " bytes)\ntimers:         " +
          std::to_string(c.timers) + "\nblobs:          " + std::to_string(c.blobs) + " (" +
          std::to_string(c.blob_bytes) + " bytes)\n";
  if (!disk) return text + "disk used:      (PostgreSQL: pg_database_size of the database)\n";
  return text + "disk used:      " + std::to_string(disk->dir_bytes) + " bytes in " + data_dir +
         "/db (RocksDB estimate: " + std::to_string(disk->estimate) + ")\n";
}

}  // namespace

Result<CommandOutput> RunStats(const Flags& flags) {
  ASSIGN_OR_RETURN(auto store, OpenForReadCommand(flags));
  ASSIGN_OR_RETURN(TableCounts counts, CountTables(*store->db()));
  std::optional<DiskUse> disk;
  if (store->backend() == "rocksdb") {
    disk = DiskUse{static_cast<int64_t>(store->db()->ApproximateDiskBytes()),
                   DirectoryBytes(store->data_dir())};
  }
  return CommandOutput{flags.json ? StatsJson(counts, store->backend(), disk)
                                  : StatsText(counts, store->data_dir(), disk),
                       0};
}

}  // namespace papr::engine_admin
