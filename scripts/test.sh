#!/usr/bin/env bash
# The whole suite, twice: on SQLite (the embedded default) and on PostgreSQL 15.
# PostgreSQL comes from scripts/ensure-postgres.sh ($DATABASE_URL, a server on
# 127.0.0.1:5432, or one it installs and starts). Without PostgreSQL the second
# run is skipped with a warning, except under CI=true, where that fails the run.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
PY=.venv/bin/python
mkdir -p var
export PYTHONDONTWRITEBYTECODE=1

echo "== lint: ruff, import contracts, migrations"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports --no-cache
DJANGO_SETTINGS_MODULE=config.settings.test CARNET_DATABASE_URL= DATABASE_URL= \
  $PY manage.py makemigrations --check --dry-run >/dev/null

echo "== translations: catalogues up to date with the sources"
scripts/messages.sh
if ! git diff --quiet -I 'POT-Creation-Date' -- locale 2>/dev/null; then
  git --no-pager diff --stat -- locale
  echo "New or changed strings: run 'make messages', translate them (fr, de, it), commit." >&2
  exit 1
fi

echo "== browser: Debian's Chromium and axe-core from npm"
set +e
scripts/ensure-browser.sh
browser_status=$?
set -e
if [ $browser_status -ne 0 ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "Chromium is required under CI=true and could not be provided." >&2
    exit 1
  fi
  echo "WARNING: no Chromium: the browser tests will be skipped." >&2
fi

echo "== frontend: the committed bundle is built from frontend/src and the lock file"
set +e
scripts/build-frontend.sh --check
bundle_status=$?
set -e
if [ $bundle_status -eq 3 ] && [ "${CI:-}" != "true" ]; then
  echo "WARNING: no npm: the JavaScript bundle was not checked." >&2
elif [ $bundle_status -ne 0 ]; then
  exit 1
fi

echo "== tests on SQLite"
CARNET_DATABASE_URL="sqlite:///$PWD/var/test.sqlite3" DATABASE_URL= \
  .venv/bin/pytest --create-db -q "$@"

echo "== tests on PostgreSQL"
set +e
PG_URL=$(scripts/ensure-postgres.sh)
status=$?
set -e
if [ $status -ne 0 ] || [ -z "$PG_URL" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "PostgreSQL is required under CI=true and could not be provided." >&2
    exit 1
  fi
  echo "WARNING: PostgreSQL not available: the PostgreSQL run was skipped." >&2
  exit 0
fi
CARNET_DATABASE_URL="$PG_URL" CARNET_REQUIRE_POSTGRES=1 .venv/bin/pytest --create-db -q "$@"
