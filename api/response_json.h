#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/json_writer.h"
#include "storage/memory_record.h"
#include "workflows/batch_types.h"

namespace papr::api {

// JSON shapes of API.md, each written in one place.

// Every top-level field the memory object M can have (WriteMemory writes no other, a test
// checks it). Metadata keys with these names are not lifted to the top level: user metadata
// never shadows a server field.
const std::vector<std::string_view>& MemoryServerFields();

// The memory object M (with "score" when `score` >= 0).
void WriteMemory(JsonWriter& w, const storage::MemoryRecord& m, double score = -1);
// AddMemoryResponse's data item: {"memoryId","createdAt","objectId","memoryChunkIds"}.
void WriteAddMemoryItem(JsonWriter& w, const std::string& memory_id, int64_t created_at_ms);
// The batch status object of GET /v1/memory/batch/status/{id}.
void WriteBatchStatus(JsonWriter& w, const workflows::BatchStatus& st);
// The final BatchMemoryResponse (for ?wait=) from the status and all item results.
std::string BatchMemoryResponseBody(const workflows::BatchStatus& st,
                                    const std::vector<workflows::ItemResult>& items,
                                    int* http_status);

}  // namespace papr::api
