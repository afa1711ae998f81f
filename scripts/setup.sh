#!/usr/bin/env bash
# Installs everything kgate needs to build, run and test, from Debian's packages
# (and PyPI for the JUnit consumer). Idempotent: a second run installs nothing.
set -euo pipefail

DEB_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config clang-format
  clang libclang-rt-14-dev
  libboost1.81-dev libboost-system1.81-dev
  libssl-dev libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev googletest libcli11-dev
  libsqlite3-dev libpq-dev
  postgresql postgresql-contrib
  chromium python3 python3-pip python3-venv python3-yaml openssl curl iproute2
)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: Debian packages present"
fi

# A real JUnit consumer for the report tests, in a project-local venv.
VENV="${KGATE_VENV:-$HOME/.cache/kgate/venv}"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import junitparser, jsonschema" 2>/dev/null; then
  echo "setup: creating $VENV with junitparser"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q junitparser==3.2.0 jsonschema==4.23.0
fi

# The SARIF 2.1.0 JSON schema (the rtm.5 text GitHub code scanning validates against), for the
# audit's SARIF test. npm's @microsoft/jest-sarif ships it; only the tarball is fetched (npm
# pack: no install, no dependencies) and the one file kept. Skipped when already there.
SARIF_DIR="${KGATE_SARIF_DIR:-$HOME/.cache/kgate/sarif}"
SARIF_SCHEMA="$SARIF_DIR/sarif-schema-2.1.0.json"
if [ ! -s "$SARIF_SCHEMA" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "setup: installing npm (for the SARIF schema)"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
  echo "setup: fetching the SARIF 2.1.0 schema into $SARIF_DIR"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent @microsoft/jest-sarif@1.0.0-beta.0 >/dev/null &&
    tar xzf microsoft-jest-sarif-1.0.0-beta.0.tgz package/lib/schemas/sarif-2.1.0-rtm.5.json)
  mkdir -p "$SARIF_DIR"
  mv "$tmp/package/lib/schemas/sarif-2.1.0-rtm.5.json" "$SARIF_SCHEMA"
  rm -rf "$tmp"
fi
