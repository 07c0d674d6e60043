#pragma once
// Reading a whole history for replay. Internal: include only from engine/*.cc.

#include <string>
#include <vector>

#include "common/result.h"
#include "engine/history_event.h"
#include "storage/db.h"

namespace papr::engine::internal {

// Every event of `workflow_id`, in order. An event that does not decode, a row whose key is
// not its last event's id, or a gap in the ids (they are dense from 1) is a Corruption naming the
// event: replaying past it would rebuild the wrong state, and the next commit would reuse
// its id and overwrite history.
Result<std::vector<HistoryEvent>> LoadHistory(const storage::Db& db,
                                              const std::string& workflow_id);
// The first event (its WorkflowExecutionStarted); NotFound when the history is empty.
Result<HistoryEvent> LoadFirstEvent(const storage::Db& db, const std::string& workflow_id);

}  // namespace papr::engine::internal
