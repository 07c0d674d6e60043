#!/usr/bin/env bash
# Bootstraps, builds both editions and runs every test with ctest:
#   build/      the default build (engine on): unit + integration tests, cloud and OSS
#   build-oss/  -DPAPR_WITH_ENGINE=OFF: the OSS edition builds without engine/ and passes
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh
(cd build && ctest --output-on-failure -j 2 --timeout 900)
PAPR_BUILD_DIR=build-oss tools/build.sh -DPAPR_WITH_ENGINE=OFF -DPAPR_BUILD_BENCH=OFF
(cd build-oss && ctest --output-on-failure -j 2 --timeout 900)
