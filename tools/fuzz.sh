#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang, ASan and UBSan into build-fuzz/ and runs
# each for SECONDS_PER_TARGET seconds on a scratch copy of its seed corpus (fuzz/corpus/<t>/
# plus fuzz/regressions/<t>/), so the committed corpus never grows. Prints the executions of
# each target and a summary line; exits non-zero if any target crashed. Crash inputs are kept
# in build-fuzz/fuzz-artifacts/<target>/, logs in build-fuzz/fuzz-logs/<target>.log.
#
# Usage: tools/fuzz.sh [SECONDS_PER_TARGET (default 30)] [TARGET...]
#   TARGET: http_request json_request config history_event url (default: all)
# Installs what is missing (the project's packages, clang and its fuzzer runtime).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-30}"
[ $# -gt 0 ] && shift
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: tools/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
  exit 2
fi
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(http_request json_request config history_event url)
build="${PAPR_FUZZ_BUILD_DIR:-build-fuzz}"

# ---- Packages: the project's (bootstrap.sh), then clang and the fuzzer runtime of its version.
tools/bootstrap.sh
install_missing() {
  local missing=() p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "fuzz: installing ${missing[*]}" >&2
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}
command -v clang++ >/dev/null || install_missing clang
clang_major="$(clang++ -dumpversion | cut -d. -f1)"
install_missing "libclang-rt-${clang_major}-dev"
probe_dir="$(mktemp -d)"
trap 'rm -rf "$probe_dir"' EXIT
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
  >"$probe_dir/probe.cc"
if ! clang++ -fsanitize=fuzzer,address,undefined "$probe_dir/probe.cc" -o "$probe_dir/probe" \
     2>"$probe_dir/err"; then
  cat "$probe_dir/err" >&2
  echo "fuzz: clang++ cannot link a libFuzzer target (libclang-rt-${clang_major}-dev?)" >&2
  exit 1
fi

# ---- Build.
if ! grep -q "PAPR_BUILD_FUZZ" CMakeLists.txt; then
  echo "fuzz: the root CMakeLists.txt has no PAPR_BUILD_FUZZ option adding fuzz/ (see fuzz/README.md)" >&2
  exit 1
fi
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPAPR_BUILD_TESTS=OFF -DPAPR_BUILD_BENCH=OFF -DPAPR_BUILD_FUZZ=ON \
  -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined,fuzzer-no-link" >/dev/null
build_targets=()
for t in "${targets[@]}"; do build_targets+=("${t}_fuzzer"); done
cmake --build "$build" -j "$(nproc)" --target "${build_targets[@]}"

# ---- Run.
# UBSan only reports by default; halt so that undefined behaviour is a crash too.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
mkdir -p "$build/fuzz-logs"
export TMPDIR="$probe_dir"  # what a crashed fuzzer leaves there (http_request's /ui/ tree) goes too
passed=0
failed=0
total_execs=0
for t in "${targets[@]}"; do
  corpus="$probe_dir/corpus-$t"
  mkdir -p "$corpus"
  for dir in "fuzz/corpus/$t" "fuzz/regressions/$t"; do
    if [ -d "$dir" ]; then find "$dir" -maxdepth 1 -type f ! -name '.*' -exec cp {} "$corpus/" \;; fi
  done
  artifacts="$build/fuzz-artifacts/$t"
  mkdir -p "$artifacts"
  log="$build/fuzz-logs/$t.log"
  args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=30 -print_final_stats=1
        -artifact_prefix="$artifacts/")
  [ -f "fuzz/dict/$t.dict" ] && args+=(-dict="fuzz/dict/$t.dict")
  set +e
  "$build/bin/${t}_fuzzer" "${args[@]}" "$corpus" >"$log" 2>&1
  rc=$?
  set -e
  rm -rf "$corpus"
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)"
  execs="${execs:-0}"
  total_execs=$((total_execs + execs))
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    echo "fuzz: $t: $execs executions in ${seconds}s, no crash"
  else
    failed=$((failed + 1))
    echo "fuzz: $t: CRASHED (exit $rc) after $execs executions; log: $log"
    grep -E "^==[0-9]+==ERROR|runtime error:|fuzz check failed:|Test unit written to|SUMMARY:" \
      "$log" | head -8 | sed 's/^/  /'
  fi
done
echo "fuzz: $total_execs executions in total, ${seconds}s per target"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
