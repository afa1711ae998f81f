#!/usr/bin/env bash
# Compares kgate audit with kube-score on the same manifests (not a test: a table to read).
# kube-score is built from the Go module proxy at a pinned version into ~/.cache/kgate/bin
# (once); the inputs are the project's chart (helm template) and the public-style manifests in
# fixtures/audit-compare/. Prints, per object, what each tool reports; docs/audit.md keeps the
# table of a run.
#
#   scripts/compare-kube-score.sh [build/core/kgate]
#
# Environment: KUBE_SCORE_VERSION (default below), KGATE_BIN (default ~/.cache/kgate/bin),
# KGATE_HELM (default ~/.cache/kgate/bin/helm).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
KGATE="${1:-$ROOT/build/core/kgate}"
VERSION="${KUBE_SCORE_VERSION:-v1.20.0}"
BIN="${KGATE_BIN:-$HOME/.cache/kgate/bin}"
KUBE_SCORE="$BIN/kube-score"
STAMP="$BIN/kube-score.version"
HELM="${KGATE_HELM:-$HOME/.cache/kgate/bin/helm}"

[ -x "$KGATE" ] || { echo "compare: no kgate at $KGATE (ninja -C build kgate)" >&2; exit 2; }
if [ ! -x "$KUBE_SCORE" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$VERSION" ]; then
  command -v go >/dev/null 2>&1 || PATH="/usr/local/go/bin:$PATH"
  command -v go >/dev/null 2>&1 || { echo "compare: go is needed to build kube-score" >&2; exit 2; }
  echo "compare: building kube-score $VERSION from the Go module proxy into $BIN" >&2
  mkdir -p "$BIN"
  GOBIN="$BIN" GOFLAGS="-mod=mod" CGO_ENABLED=0 GOMAXPROCS="${GOMAXPROCS:-2}" \
    go install -p 1 "github.com/zegl/kube-score/cmd/kube-score@$VERSION"
  echo "$VERSION" > "$STAMP"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
inputs=()
if [ -x "$HELM" ]; then
  "$HELM" template todo "$ROOT/chart/todo" > "$work/todo-chart.yaml"
  inputs+=("$work/todo-chart.yaml")
fi
inputs+=("$ROOT"/fixtures/audit-compare/*.yaml)

for f in "${inputs[@]}"; do
  name="$(basename "$f")"
  "$KGATE" audit --manifests "$f" --json "$work/$name.kgate.json" >/dev/null 2>&1 || true
  "$KUBE_SCORE" score --output-format json "$f" > "$work/$name.kube-score.json" 2>/dev/null || true
  python3 - "$name" "$work/$name.kgate.json" "$work/$name.kube-score.json" <<'PY'
import json, sys, collections
name, kgate_path, ks_path = sys.argv[1:]
by_object = collections.defaultdict(lambda: (set(), set()))
kg = json.load(open(kgate_path))
for c in kg["checks"]:
    if c["status"] not in ("failed", "warning"):
        continue
    for line in c.get("detail", "").splitlines():
        if line.startswith("- ") and ": " in line and not line.startswith("- suppressed"):
            obj = line[2:].split(": ", 1)[0]
            if "/" in obj:
                by_object[obj][0].add(c["name"] + ("" if c["status"] == "failed" else " (warn)"))
for o in json.load(open(ks_path)):
    obj = f'{o["type_meta"]["kind"]}/{o["object_meta"]["name"]}'
    for chk in o.get("checks", []):
        if chk.get("skipped"):
            continue
        grade = chk.get("grade", 10)
        if grade < 10:
            by_object[obj][1].add(chk["check"]["id"] + ("" if grade <= 1 else " (warn)"))
print(f"\n### {name}\n")
print("| object | kgate | kube-score |")
print("|---|---|---|")
for obj in sorted(by_object):
    k, s = by_object[obj]
    print(f"| {obj} | {', '.join(sorted(k)) or '-'} | {', '.join(sorted(s)) or '-'} |")
PY
done
