// libFuzzer target: stored binary records (history events, execution/activity records, batch codec, memory records).
// The checks are in history_event_check.cc; tools/fuzz.sh builds and runs this target.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return papr::fuzz::RunCheckOrAbort(papr::fuzz::CheckHistoryEvent, data, size);
}
