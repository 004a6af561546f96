#!/usr/bin/env bash
# Migrate the embedded SQLite database, load the demo data once, serve on :8000.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
PY=.venv/bin/python
mkdir -p var
$PY manage.py migrate --noinput -v 0
# Local key-encryption key in var/vault/ (0600): development only, see README "Security model".
$PY manage.py vault_init >/dev/null
if [ ! -f var/.seeded ]; then
  $PY manage.py seed --practitioners "${CARNET_DEMO_PRACTITIONERS:-300}"
  touch var/.seeded
fi
# Search shows each practitioner's next free times from an index kept up to date by every
# booking; slots that time has overtaken are refreshed here (and lazily by the pages).
$PY manage.py refresh_next_availability --stale
cat <<MSG

  Carnet is running on http://127.0.0.1:8000  (Ctrl-C stops it)

    Patient site        http://127.0.0.1:8000/  (search, book, "My appointments")
    Staff workspace     http://127.0.0.1:8000/pro/  (agenda, patients, settings, team)
    API documentation   http://127.0.0.1:8000/api/docs
    Administration      http://127.0.0.1:8000/admin/

    patient        patient@carnet.test        / carnet-patient
    practitioner   practitioner@carnet.test   / carnet-practitioner  (and practice admin)
    secretary      secretary@carnet.test      / carnet-secretary
    admin          admin@carnet.test          / carnet-admin

    Staff (practitioner, secretary, admin) set up two-factor authentication at first login:
    any authenticator app (TOTP) or a passkey. Patient data stays closed until then.

    API token:  .venv/bin/python manage.py mint_token patient@carnet.test
    A background worker (manage.py db_worker) runs beside the web server and sends
    confirmations, reminders and notices: here they are written to var/mail/ (one
    file per e-mail) instead of being sent; SMS once CARNET_VONAGE_API_KEY is set (README).

MSG
# One background worker (Django's tasks API, database backend) beside the web server;
# Ctrl-C (or any exit) stops both. Unless told otherwise, e-mails go to files in var/mail/.
export CARNET_EMAIL_BACKEND=${CARNET_EMAIL_BACKEND:-django.core.mail.backends.filebased.EmailBackend}
$PY manage.py db_worker --queue-name '*' --interval 1 --no-reload -v 0 &
WORKER=$!
trap 'kill "$WORKER" 2>/dev/null; wait "$WORKER" 2>/dev/null' EXIT
trap 'exit 130' INT TERM
$PY manage.py runserver 127.0.0.1:8000
