#!/usr/bin/env bash
# Configures and builds kgate and the reference app into build/ (or $KGATE_BUILD_DIR).
# Usage: scripts/build.sh [extra cmake -D options]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${KGATE_BUILD_DIR:-build}"
JOBS="${KGATE_JOBS:-$(nproc)}"
if [ ! -f "$BUILD/build.ninja" ] || [ $# -gt 0 ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
fi
ninja -C "$BUILD" -j "$JOBS" ${KGATE_TARGETS:-}
