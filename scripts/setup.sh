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
