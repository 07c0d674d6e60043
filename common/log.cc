#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <string>

#include "common/clock.h"
#include "common/json_writer.h"

namespace papr::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

}  // namespace

bool ParseLevel(std::string_view name, Level* out) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (name == LevelName(l)) {
      *out = l;
      return true;
    }
  }
  return false;
}

void SetLevel(Level level) { g_level = static_cast<int>(level); }

bool Enabled(Level level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

void Write(Level level, std::string_view message, Fields fields) {
  if (!Enabled(level)) return;
  JsonWriter w;
  w.BeginObject()
      .Field("ts", FormatRfc3339(SystemClock::Default()->NowMillis()))
      .Field("level", LevelName(level))
      .Field("msg", message);
  for (const auto& [key, value] : fields) w.Field(key, value);
  w.EndObject();
  std::string line = w.Take();
  line.push_back('\n');
  // One write(2) per line keeps lines whole when threads log at once.
  ssize_t unused = ::write(STDERR_FILENO, line.data(), line.size());
  (void)unused;
}

}  // namespace papr::log
