#!/usr/bin/env bash
# Coverage-guided fuzzing of kgate's parsers (fuzz/, docs/fuzzing.md).
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
# Builds the libFuzzer targets with clang, ASan and UBSan into build-fuzz (ccache), then runs
# each target (all by default) for SECONDS (default 60) from its seed corpus. An input that
# crashes, leaks, hangs or breaks a property is kept under fuzz/regressions/<target>/, where
# `ctest -L fuzz` (and so scripts/test.sh) runs it on every build from then on, and the script
# exits 1. New interesting inputs stay in build-fuzz/fuzz/work/<target>/ (not committed).
# KGATE_FUZZ_BUILD_ONLY=1 only builds.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-60}"
shift || true
case "$SECONDS_EACH" in '' | *[!0-9]*)
  echo "fuzz.sh: SECONDS must be a whole number, got '$SECONDS_EACH'" >&2
  exit 2
  ;;
esac
BUILD="${KGATE_FUZZ_BUILD_DIR:-build-fuzz}"
JOBS="${KGATE_JOBS:-$(nproc)}"
for tool in clang clang++; do
  command -v "$tool" >/dev/null || { echo "fuzz.sh: $tool not found (scripts/setup.sh installs it)" >&2; exit 2; }
done
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/kgate/ccache}"
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1

if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DKGATE_FUZZ=ON -DKGATE_TESTS=OFF >/dev/null
fi
ninja -C "$BUILD" -j "$JOBS" fuzz_targets
[ "${KGATE_FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for d in fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi

failed=0
for t in "${targets[@]}"; do
  bin="$BUILD/fuzz/$t"
  [ -x "$bin" ] || { echo "fuzz.sh: no target $t (have: $(ls fuzz/corpus | tr '\n' ' '))" >&2; exit 2; }
  work="$BUILD/fuzz/work/$t" crashes="$BUILD/fuzz/crashes/$t" saved="fuzz/regressions/$t"
  mkdir -p "$work" "$crashes" "$saved"
  dict=()
  [ -f "fuzz/dict/$t.dict" ] && dict=(-dict="fuzz/dict/$t.dict")
  before=$(ls "$crashes" | wc -l)
  echo "== $t for ${SECONDS_EACH}s"
  # -timeout: an input that takes 10 s is a finding (a hang); -rss_limit_mb: so is 2 GiB.
  set +e
  "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -print_final_stats=1 "${dict[@]}" -artifact_prefix="$crashes/" "$work" "fuzz/corpus/$t" "$saved" \
    >"$BUILD/fuzz/$t.log" 2>&1
  rc=$?
  set -e
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ *DONE)" "$BUILD/fuzz/$t.log" || true
  if [ "$(ls "$crashes" | wc -l)" -gt "$before" ] || [ $rc -ne 0 ]; then
    failed=1
    echo "fuzz.sh: $t found a problem (exit $rc); see $BUILD/fuzz/$t.log" >&2
    grep -E "ERROR|FUZZ_ASSERT|runtime error|SUMMARY" "$BUILD/fuzz/$t.log" | head -5 >&2 || true
    for f in "$crashes"/*; do
      [ -f "$f" ] || continue
      cp -n "$f" "$saved/" && echo "fuzz.sh: kept $saved/$(basename "$f")" >&2
    done
  fi
done
exit $failed
