#!/usr/bin/env bash
# Installs a pinned actionlint (the GitHub Actions workflow linter) into
# $HOME/.cache/kgate/bin (or $KGATE_BIN), built from source through the Go
# module proxy, as scripts/install-helm.sh does for Helm. Idempotent: when the
# binary there already reports the pinned version, it does nothing. The CI
# template tests (tests/ci) use it.
#
# Environment:
#   KGATE_ACTIONLINT_VERSION  version to install (default below)
#   KGATE_BIN                 install directory (default $HOME/.cache/kgate/bin)
#   GOPROXY                   as Go's own default unless set
set -euo pipefail

VERSION="${KGATE_ACTIONLINT_VERSION:-v1.7.12}"
BIN="${KGATE_BIN:-$HOME/.cache/kgate/bin}"
TOOL="$BIN/actionlint"
MODULE="github.com/rhysd/actionlint/cmd/actionlint"

if [ -x "$TOOL" ] && [ "$("$TOOL" -version 2>/dev/null | head -n1)" = "$VERSION" ]; then
  echo "install-actionlint: $TOOL is already $VERSION"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  for candidate in /usr/local/go/bin/go /usr/lib/go/bin/go; do
    if [ -x "$candidate" ]; then
      PATH="$(dirname "$candidate"):$PATH"
      break
    fi
  done
fi
if ! command -v go >/dev/null 2>&1; then
  echo "install-actionlint: 'go' not found; actionlint $VERSION is built from source and needs Go" >&2
  exit 2
fi

mkdir -p "$BIN"
export GOFLAGS="-mod=mod ${GOFLAGS:-}"
export GOMAXPROCS="${GOMAXPROCS:-2}"
export CGO_ENABLED=0
echo "install-actionlint: building actionlint $VERSION with $(go version | awk '{print $3}') into $BIN"
start=$(date +%s)
# The version stamp actionlint prints (-version) comes from this variable, as its release builds set it.
GOBIN="$BIN" go install -p 1 \
  -ldflags "-s -w -X github.com/rhysd/actionlint.version=$VERSION" "$MODULE@$VERSION"
got="$("$TOOL" -version | head -n1)"
if [ "$got" != "$VERSION" ]; then
  echo "install-actionlint: built $TOOL reports '$got', expected $VERSION" >&2
  exit 1
fi
echo "install-actionlint: $TOOL $VERSION ($(( $(date +%s) - start ))s)"
