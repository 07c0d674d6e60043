#!/usr/bin/env bash
# Bootstraps, builds and runs every test. Stages (each a separate build tree):
#   build/       Release, engine on: unit, integration, crash, webhook, console browser tests;
#                then the integration suite again on PostgreSQL (tools/test_postgres.sh)
#   build-oss/   -DPAPR_WITH_ENGINE=OFF: the OSS edition builds without engine/ and passes
#   build-asan/  AddressSanitizer + UndefinedBehaviorSanitizer build of the whole test suite
#   build-tsan/  ThreadSanitizer build of the whole test suite (tools/test_tsan.sh)
#   build-fuzz/  clang + libFuzzer: every fuzz target for PAPR_FUZZ_SECONDS (default 20) each
set -euo pipefail
cd "$(dirname "$0")/.."
passed=0
# The 20-kill crash loop runs in the Release and PostgreSQL stages; under the sanitizers it
# takes minutes and kills processes more than it races threads.
export slow_under_sanitizers='^ReliabilityCrashLoopIntegrationTest\.'

# Test-only tools from Debian: promtool (package prometheus) lints /metrics in the suite.
PAPR_EXTRA_PACKAGES="prometheus" tools/bootstrap.sh
export PAPR_REQUIRE_PROMTOOL=1
tools/build.sh
(cd build && ctest --output-on-failure -j 2 --timeout 900)
passed=$((passed + 1))

tools/test_postgres.sh  # the integration suite again on storage.backend: postgres (build/)
passed=$((passed + 1))

PAPR_BUILD_DIR=build-oss tools/build.sh -DPAPR_WITH_ENGINE=OFF -DPAPR_BUILD_BENCH=OFF
(cd build-oss && ctest --output-on-failure -j 2 --timeout 900)
passed=$((passed + 1))

PAPR_BUILD_DIR=build-asan tools/build.sh -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPAPR_SANITIZE=address,undefined -DPAPR_BUILD_BENCH=OFF
(cd build-asan &&
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$PWD/../tools/sanitizers/ubsan.supp \
  ctest --output-on-failure -j 2 --timeout 900 -E "$slow_under_sanitizers")
passed=$((passed + 1))

tools/test_tsan.sh
passed=$((passed + 1))

tools/fuzz.sh "${PAPR_FUZZ_SECONDS:-20}"
passed=$((passed + 1))

echo "stages: $passed passed, 0 failed"
