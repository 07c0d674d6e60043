#pragma once

#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/payload_format.h"

namespace papr::engine_admin {

// This build's PayloadFormatters (the same registration the server's history endpoint uses).
const engine::PayloadFormatRegistry& PayloadFormats();

// The decoded binary fields of `events`, a page of the history of `workflow_id` (one entry per
// event). Events before the page are read from `engine` when an activity's type is needed.
std::vector<std::vector<engine::DecodedField>> DecodePayloads(
    const engine::Engine& engine, const std::string& workflow_id,
    const std::vector<engine::HistoryEvent>& events);

}  // namespace papr::engine_admin
