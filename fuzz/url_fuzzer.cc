// libFuzzer target: URL validation (net/url.h) and the SSRF address policy.
// The checks are in url_check.cc; tools/fuzz.sh builds and runs this target.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return papr::fuzz::RunCheckOrAbort(papr::fuzz::CheckUrl, data, size);
}
