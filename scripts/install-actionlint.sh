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

# shellcheck source=scripts/go-env.sh
. "$(dirname "$0")/go-env.sh"
go_env install-actionlint "actionlint $VERSION"
mkdir -p "$BIN"
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
