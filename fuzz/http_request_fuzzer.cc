// libFuzzer target: the HTTP request path (Beast parser, request extraction, query, auth, /ui/ files).
// The checks are in http_request_check.cc; tools/fuzz.sh builds and runs this target.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return papr::fuzz::RunCheckOrAbort(papr::fuzz::CheckHttpRequest, data, size);
}
