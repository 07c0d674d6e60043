#pragma once

#include "engine/payload_format.h"

namespace papr::workflows {

// Registers how the payloads of the batch workflow types (batch_memory, batch_memory_chunk)
// read: batch header, memory index and result, webhook request and attempt, range summary,
// signal input. The API's history endpoint and engine-admin use the same registration.
void RegisterBatchPayloadFormats(engine::PayloadFormatRegistry* registry);

}  // namespace papr::workflows
