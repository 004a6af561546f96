#!/usr/bin/env bash
# Create .venv with Python 3.11 and install the locked dependencies (uv.lock).
# Works as root or not, on a fresh Debian machine: installs python3-venv with
# apt-get when it is missing and we are root, or says exactly what to install.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

UV_VERSION=0.13.8
PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 \
       && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      PYTHON=$(command -v "$candidate"); break
    fi
  done
fi
if [ -z "$PYTHON" ]; then
  echo "Carnet needs Python 3.11 (Debian 12: apt-get install python3 python3-venv)." >&2
  exit 1
fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

# uv lives in its own small environment (.tools); it then builds .venv from uv.lock.
if [ ! -x .tools/bin/uv ] || [ "$(.tools/bin/uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  rm -rf .tools
  if ! "$PYTHON" -m venv .tools 2>/dev/null; then
    rm -rf .tools
    echo "python3-venv is missing; installing it with apt-get" >&2
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2 \
      || { echo "Please install python3-venv: sudo apt-get install python3-venv" >&2; exit 1; }
    "$PYTHON" -m venv .tools
  fi
  .tools/bin/python -m pip install -q --disable-pip-version-check "uv==$UV_VERSION"
fi
UV_PROJECT_ENVIRONMENT=.venv .tools/bin/uv sync --frozen --quiet --python "$PYTHON" "$@"
