#pragma once

#include <ostream>

#include "engine/history_event.h"

namespace papr::engine {

// Readable GoogleTest output for history events (instead of raw object bytes).
inline void PrintTo(const HistoryEvent& e, std::ostream* os) { *os << "[" << DescribeEvent(e) << "]"; }

}  // namespace papr::engine
