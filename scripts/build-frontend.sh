#!/usr/bin/env bash
# Build the one JavaScript bundle: frontend/src/carnet.js (htmx + our modules) →
# carnet/core/static/carnet/carnet.js, minified, deterministic, committed to git.
# npm packages come from frontend/package-lock.json (npm ci when node_modules is stale).
# `--check` builds to a temporary file and fails when the committed bundle differs.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

OUT=carnet/core/static/carnet/carnet.js
if ! command -v npm >/dev/null; then
  echo "build-frontend: npm is missing (sudo apt-get install nodejs npm)" >&2
  exit 3
fi
if [ ! -x frontend/node_modules/.bin/esbuild ] || [ ! -d frontend/node_modules/htmx.org ] \
  || [ frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ]; then
  (cd frontend && npm ci --no-audit --no-fund --ignore-scripts --silent) >&2
fi

target=$OUT
if [ "${1:-}" = "--check" ]; then
  target=$(mktemp --suffix=.js)
  trap 'rm -f "$target"' EXIT
fi
target=$(realpath -m -- "$target")
(cd frontend && node build.mjs "$target")

if [ "${1:-}" = "--check" ]; then
  if ! cmp -s "$target" "$OUT"; then
    echo "$OUT is not up to date with frontend/src: run scripts/build-frontend.sh, commit it." >&2
    exit 1
  fi
fi
