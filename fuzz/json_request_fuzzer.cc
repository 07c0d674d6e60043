// libFuzzer target: request body decoders (DecodeAddMemory, DecodeBatch, DecodeSearch) and JsonWriter.
// The checks are in json_request_check.cc; tools/fuzz.sh builds and runs this target.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return papr::fuzz::RunCheckOrAbort(papr::fuzz::CheckJsonRequest, data, size);
}
