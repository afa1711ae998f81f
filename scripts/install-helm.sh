#!/usr/bin/env bash
# Installs a pinned Helm 3 into $HOME/.cache/kgate/bin (or $KGATE_BIN), built
# from source through the Go module proxy: no prebuilt binary is downloaded.
# Idempotent: when the binary there already reports the pinned version, it
# does nothing. The chart tests (tests/chart) use this binary.
#
# Environment:
#   KGATE_HELM_VERSION  Helm version to install (default below)
#   KGATE_BIN           install directory (default $HOME/.cache/kgate/bin)
#   KGATE_HELM_JOBS     parallel Go build jobs (default 1: leaves a core free)
#   GOPROXY             as Go's own default unless set
set -euo pipefail

HELM_VERSION="${KGATE_HELM_VERSION:-v3.21.4}"
BIN="${KGATE_BIN:-$HOME/.cache/kgate/bin}"
JOBS="${KGATE_HELM_JOBS:-1}"
HELM="$BIN/helm"
MODULE="helm.sh/helm/v3"

installed_version() {
  [ -x "$HELM" ] || return 1
  "$HELM" version --template '{{.Version}}' 2>/dev/null
}

if [ "$(installed_version || true)" = "$HELM_VERSION" ]; then
  echo "install-helm: $HELM is already $HELM_VERSION"
  exit 0
fi

# shellcheck source=scripts/go-env.sh
. "$(dirname "$0")/go-env.sh"
go_env install-helm "Helm $HELM_VERSION (Go >= 1.26)"
mkdir -p "$BIN"

echo "install-helm: building Helm $HELM_VERSION with $(go version | awk '{print $3}') into $BIN (jobs: $JOBS)"
start=$(date +%s)

# Fetch the module first so its go.mod tells which Kubernetes minor it was made
# for; Helm's own Makefile stamps the same numbers (client-go v0.X -> 1.X) so
# that `helm lint`/`helm template` assume a current cluster, not Kubernetes 1.20.
go mod download "$MODULE@$HELM_VERSION"
gomod="$(go list -m -f '{{.GoMod}}' "$MODULE@$HELM_VERSION")"
client_go="$(awk '$1 == "k8s.io/client-go" {print $2; exit}' "$gomod")"
k8s_minor="$(echo "${client_go#v}" | cut -d. -f2)"
k8s_major=1
if [ -z "$k8s_minor" ]; then
  echo "install-helm: could not read k8s.io/client-go from $gomod; keeping Helm's default Kubernetes version" >&2
fi

ldflags="-s -w -X $MODULE/internal/version.version=$HELM_VERSION -X $MODULE/internal/version.gitTreeState=clean"
if [ -n "$k8s_minor" ]; then
  for pkg in pkg/lint/rules pkg/chartutil; do
    ldflags="$ldflags -X $MODULE/$pkg.k8sVersionMajor=$k8s_major -X $MODULE/$pkg.k8sVersionMinor=$k8s_minor"
  done
fi

GOBIN="$BIN" go install -p "$JOBS" -trimpath -ldflags "$ldflags" "$MODULE/cmd/helm@$HELM_VERSION"

elapsed=$(( $(date +%s) - start ))
got="$(installed_version || true)"
if [ "$got" != "$HELM_VERSION" ]; then
  echo "install-helm: built $HELM but it reports '$got', expected $HELM_VERSION" >&2
  exit 1
fi
printf 'install-helm: Helm %s installed at %s (Kubernetes %s.%s) in %dm%02ds\n' \
  "$HELM_VERSION" "$HELM" "$k8s_major" "${k8s_minor:-20}" $((elapsed / 60)) $((elapsed % 60))
