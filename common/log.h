#pragma once

#include <initializer_list>
#include <string_view>
#include <utility>

namespace papr::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Parses "debug" | "info" | "warn" | "error"; false otherwise.
bool ParseLevel(std::string_view name, Level* out);
void SetLevel(Level level);
bool Enabled(Level level);

using Fields = std::initializer_list<std::pair<std::string_view, std::string_view>>;

// Writes one JSON object per line to stderr: {"ts","level","msg", fields...}. Lines about a
// batch or workflow carry "batch_id" / "workflow_id" fields. Never pass keys or secrets.
// Thread-safe; a line is written with one write(2).
void Write(Level level, std::string_view message, Fields fields = {});

inline void Debug(std::string_view m, Fields f = {}) { Write(Level::kDebug, m, f); }
inline void Info(std::string_view m, Fields f = {}) { Write(Level::kInfo, m, f); }
inline void Warn(std::string_view m, Fields f = {}) { Write(Level::kWarn, m, f); }
inline void Error(std::string_view m, Fields f = {}) { Write(Level::kError, m, f); }

}  // namespace papr::log
