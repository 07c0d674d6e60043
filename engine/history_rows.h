#pragma once

// The rows of kHistory. A commit stores its new events as one row, a page of consecutive
// events keyed by the id of its last event (storage/keys.h HistoryKey), so a commit of 16
// events is one row, not 16 (on PostgreSQL, one heap tuple and one index entry). Rows written
// before pages hold one event each, keyed by its id: a page of one, read the same way. A
// cursor seeking HistoryKey(id, n) lands on the row that holds event n (its last id is the
// first one >= n).

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "engine/history_event.h"
#include "storage/db.h"

namespace papr::engine {

// A page: tag byte 2, then each event as a varint length and its EncodeEvent bytes.
std::string EncodeHistoryRow(std::span<const HistoryEvent> events);
// Appends the events of a row's value (a page, or one event as stored before pages) to `out`.
// Corruption when the value does not decode; `out` then holds the events before the fault.
Status DecodeHistoryRow(std::string_view value, std::vector<HistoryEvent>* out);
// Puts the row of `events` (non-empty, consecutive ids) of workflow `workflow_id`.
void StageHistoryRow(storage::WriteBatch& wb, const std::string& workflow_id,
                     std::span<const HistoryEvent> events);

}  // namespace papr::engine
