#!/usr/bin/env bash
# Extract every translatable string into locale/{fr,de,it} and compile the catalogues.
# Needs GNU gettext (Debian: gettext); installs it when missing and root.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
if ! command -v msgfmt >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >&2
  else
    echo "GNU gettext is missing: sudo apt-get install gettext" >&2; exit 1
  fi
fi
export DJANGO_SETTINGS_MODULE=config.settings.test
for lang in fr de it; do
  .venv/bin/python manage.py makemessages -l "$lang" --no-location --no-obsolete \
    -i '.venv/*' -i 'var/*' -i 'node_modules/*' -i 'bench/*' -i 'tests/*' -i '*/tests/*' -i 'frontend/*' -v 0
done
.venv/bin/python manage.py compilemessages -v 0 --ignore '.venv/*'
