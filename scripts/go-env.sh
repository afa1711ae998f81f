# shellcheck shell=bash
# Sourced by the scripts that build a pinned Go tool into ~/.cache/kgate/bin (install-helm.sh,
# install-actionlint.sh): finds `go` (on PATH, or where Debian's and the upstream tarball put it)
# and sets a build environment that resolves modules through the proxy, on at most 2 cores,
# without cgo. `go_env NAME WHAT` exits 2 naming NAME and WHAT needs Go when there is none.
go_env() {
  if ! command -v go >/dev/null 2>&1; then
    for candidate in /usr/local/go/bin/go /usr/lib/go/bin/go; do
      if [ -x "$candidate" ]; then
        PATH="$(dirname "$candidate"):$PATH"
        break
      fi
    done
  fi
  if ! command -v go >/dev/null 2>&1; then
    echo "$1: 'go' not found; $2 is built from source and needs Go" >&2
    exit 2
  fi
  export GOFLAGS="-mod=mod ${GOFLAGS:-}"
  export GOMAXPROCS="${GOMAXPROCS:-2}"
  export CGO_ENABLED=0
}
