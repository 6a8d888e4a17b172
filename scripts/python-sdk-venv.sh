#!/usr/bin/env bash
# The virtual environment the Python SDK's tests run in: creates it (default sdks/python/.venv),
# installs sdks/python with its test extras (editable), and does so again only when
# sdks/python/pyproject.toml changes. On Debian, python3 and python3-venv are installed with
# apt-get when missing and running as root.
#   bash scripts/python-sdk-venv.sh [VENV_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SDK="$ROOT/sdks/python"
VENV="${1:-$SDK/.venv}"
[[ "$VENV" = /* ]] || VENV="$PWD/$VENV"

log() { printf '[python-sdk] %s\n' "$*" >&2; }
apt_install() {
  if [[ $(id -u) -ne 0 ]]; then
    log "missing Debian package(s): $*; install them (sudo apt-get install -y $*) or run this as root"
    exit 1
  fi
  log "installing $* (apt-get)"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

command -v python3 >/dev/null || apt_install python3 python3-venv
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
  { log "the SDK needs Python 3.10 or later; python3 is $(python3 --version 2>&1)"; exit 1; }

if ! "$VENV/bin/python" -c 'import pip' >/dev/null 2>&1; then
  rm -rf "$VENV"
  # Debian's python3 makes no venv with pip (no ensurepip) without python3-venv.
  if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
    rm -rf "$VENV"
    apt_install python3-venv
    python3 -m venv "$VENV"
  fi
fi

stamp="$VENV/.orchestrator-sdk-installed"
want="$(sha256sum "$SDK/pyproject.toml" | cut -d' ' -f1)"
if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]] || ! "$VENV/bin/python" -c 'import orchestrator_sdk' >/dev/null 2>&1; then
  log "installing sdks/python[test] into $VENV"
  # One retry: where PyPI is unreachable and a mirror serves the packages, pip's default five
  # retries per package add minutes.
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --retries "${PIP_RETRIES:-1}" -e "$SDK[test]"
  echo "$want" >"$stamp"
fi
echo "$VENV"
