#!/usr/bin/env bash
# Bootstraps dependencies, then configures and builds into ./build (Release, Ninja, ccache).
# Extra arguments go to cmake's configure step (e.g. -DPAPR_WITH_ENGINE=OFF).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/bootstrap.sh
# ccache hits across clones in other folders (CI builds a fresh clone): paths relative to here.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake -S . -B "${PAPR_BUILD_DIR:-build}" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "${PAPR_BUILD_DIR:-build}" -j "$(nproc)"
