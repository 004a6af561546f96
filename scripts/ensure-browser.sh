#!/usr/bin/env bash
# Debian's Chromium for the browser tests, and the npm packages (axe-core, which they
# inject; htmx and esbuild, which scripts/build-frontend.sh bundles).
# Installs chromium (and nodejs/npm) with apt-get when missing and root; otherwise says
# what to install and exits 3. Prints nothing on stdout.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v npm >/dev/null || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "ensure-browser: installing ${need[*]} with apt-get" >&2
  if ! { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"; } >&2; then
    echo "ensure-browser: please install: sudo apt-get install ${need[*]}" >&2
    exit 3
  fi
fi
if [ ! -f frontend/node_modules/axe-core/axe.min.js ] || [ ! -d frontend/node_modules/htmx.org ] \
  || [ frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ]; then
  (cd frontend && npm ci --no-audit --no-fund --ignore-scripts --silent) >&2
fi
