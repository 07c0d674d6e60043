#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace papr::fuzz {

// Each check runs one input through a parser or decoder the way the server does, then checks
// the properties that must hold for every input (round trips, valid JSON out, limits kept).
// A check returns "" when they hold, else a description of the first one that does not.
// Memory errors and undefined behaviour are found by the sanitizers of the fuzz build.
// The fuzzers (fuzz/*_fuzzer.cc) and the corpus replay test (tests/fuzz_regressions/) call
// the same functions, so a saved crash input stays covered in the normal build.

// Bytes of one HTTP/1.1 connection: parsed with Beast as net/http_server.cc does, then the
// request extraction, query parameters, authentication and the /ui/ static file lookup.
std::string CheckHttpRequest(std::string_view input);
// Any text as a URL: net::ParseUrl and net::SpecialPurposeBlock (webhook_url validation and
// the SSRF guard).
std::string CheckUrl(std::string_view input);
// A request body: api::DecodeAddMemory, DecodeBatch, DecodeSearch, and JsonWriter output.
std::string CheckJsonRequest(std::string_view input);
// YAML text: config::LoadConfigFromString, then Validate for both builds.
std::string CheckConfig(std::string_view input);
// Stored binary records: history events, execution and activity records, batch headers,
// memory blobs and memory records; each decoded value must re-encode to an equal value.
std::string CheckHistoryEvent(std::string_view input);

// For LLVMFuzzerTestOneInput: runs `check` and aborts (a libFuzzer crash) on a failure.
inline int RunCheckOrAbort(std::string (*check)(std::string_view), const uint8_t* data,
                           size_t size) {
  std::string failure = check(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!failure.empty()) {
    std::fprintf(stderr, "fuzz check failed: %s\n", failure.c_str());
    std::abort();
  }
  return 0;
}

}  // namespace papr::fuzz
