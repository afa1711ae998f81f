#!/usr/bin/env bash
# README command 2: install what is missing, then build with warnings as errors and run every
# test (unit, reference app, PostgreSQL, reports in Chromium and junitparser, chart, kgate end
# to end); then build again with AddressSanitizer + UndefinedBehaviorSanitizer and rerun the
# C++ tests under them. KGATE_SKIP_SANITIZE=1 skips the second pass. The `cluster` tests run a
# real local control plane, built once from the Go module proxy (fixtures/control-plane).
# Last, the fuzz targets (clang, libFuzzer; fuzz/): every saved crash input as a regression
# test, and each target for KGATE_FUZZ_SECONDS (20 s) from its seeds. KGATE_SKIP_FUZZ=1 skips.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
[ -x scripts/install-helm.sh ] && scripts/install-helm.sh
[ -x scripts/install-actionlint.sh ] && scripts/install-actionlint.sh
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/kgate/ccache}"
# CI builds a fresh clone each time: paths relative to the checkout let ccache reuse objects.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
JOBS="${KGATE_JOBS:-$(nproc)}"
ctest_args=(--output-on-failure --no-tests=error -j "$JOBS")

echo "== control plane for the cluster tests (built once into ~/.cache/kgate, ~11 min cold)"
fixtures/control-plane/build.sh >/dev/null
echo "== build (warnings as errors)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKGATE_WERROR=ON >/dev/null
ninja -C build -j "$JOBS"
echo "== tests"
ctest --test-dir build "${ctest_args[@]}"

if [ "${KGATE_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== build (ASan + UBSan)"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DKGATE_WERROR=ON -DKGATE_SANITIZE=ON >/dev/null
  ninja -C build-asan -j "$JOBS"
  echo "== tests under ASan + UBSan"
  # Chart and browser tests exercise no C++ of ours beyond what the first pass ran.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan "${ctest_args[@]}" -LE 'chart|browser'
fi

if [ "${KGATE_SKIP_FUZZ:-0}" != 1 ]; then
  echo "== fuzz targets (clang, ASan + UBSan, libFuzzer)"
  KGATE_FUZZ_BUILD_ONLY=1 scripts/fuzz.sh
  cmake -S . -B build-fuzz -DKGATE_FUZZ_SECONDS="${KGATE_FUZZ_SECONDS:-20}" >/dev/null
  ctest --test-dir build-fuzz "${ctest_args[@]}" -L fuzz
fi
