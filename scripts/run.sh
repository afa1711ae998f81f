#!/usr/bin/env bash
# README command 1: install what is missing, build, and run kgate's main job on its embedded
# default (the reference todo app on loopback, no cluster needed). Reports land in kgate-report/.
# Extra arguments go to `kgate run` (for example --target URL, --config FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
KGATE_TARGETS="kgate todo-app" scripts/build.sh
exec build/core/kgate run --report-dir kgate-report "$@"
