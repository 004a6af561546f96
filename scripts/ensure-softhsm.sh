#!/usr/bin/env bash
# scripts/ensure-softhsm.sh — a SoftHSM2 token for the vault's PKCS#11 backend (tests, local runs).
#
# Usage:
#   scripts/ensure-softhsm.sh [--label LABEL]   make sure the token exists, then print on
#                                               stdout only `export NAME=value` lines:
#       export SOFTHSM2_CONF=<project>/var/softhsm/softhsm2.conf
#       export CARNET_VAULT_BACKEND=pkcs11
#       export CARNET_VAULT_PKCS11_MODULE=/usr/lib/softhsm/libsofthsm2.so
#       export CARNET_VAULT_PKCS11_TOKEN=carnet-test
#       export CARNET_VAULT_PKCS11_PIN=<user PIN>
#     e.g.  eval "$(scripts/ensure-softhsm.sh)" && .venv/bin/python manage.py vault_init
#   scripts/ensure-softhsm.sh reset              delete this project's tokens and PINs.
#
# Everything lives in var/softhsm/ (mode 700): its own softhsm2.conf (so the system's
# tokens are never touched), tokens/, and `pins` (mode 600: SO_PIN and USER_PIN, random,
# generated once). Idempotent and safe to run concurrently (flock). The PINs are given
# to softhsm2-util on its command line once, when the token is created: acceptable for
# a test token, not for a production HSM.
#
# When SoftHSM2 is missing it is installed with apt-get (package softhsm2) if we are
# root; otherwise the script says what to install and exits 3.
# Exit codes: 0 ok, 2 usage error, 3 SoftHSM2 not available (the caller decides whether
# to skip or fail, e.g. depending on CI=true).

set -euo pipefail

ROOT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
SELF="$ROOT_DIR/scripts/$(basename -- "${BASH_SOURCE[0]}")"
STATE_DIR="$ROOT_DIR/var/softhsm"
TOKEN_DIR="$STATE_DIR/tokens"
CONF_FILE="$STATE_DIR/softhsm2.conf"
PIN_FILE="$STATE_DIR/pins"
LOCK_FILE="$STATE_DIR/lock"
LABEL=carnet-test

# stdout is reserved for the export lines (fd 3); everything else goes to stderr.
exec 3>&1 1>&2

log() { printf 'ensure-softhsm: %s\n' "$*" >&2; }
die() {
    local code=$1
    shift
    log "ERROR: $*"
    exit "$code"
}

MODULE_CANDIDATES=(
    /usr/lib/softhsm/libsofthsm2.so
    /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so
    /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so
    /usr/lib64/pkcs11/libsofthsm2.so
    /usr/lib/pkcs11/libsofthsm2.so
    /usr/local/lib/softhsm/libsofthsm2.so
)

find_module() {
    MODULE=''
    local candidate
    for candidate in "${MODULE_CANDIDATES[@]}"; do
        if [[ -r $candidate ]]; then
            MODULE=$candidate
            return 0
        fi
    done
    if command -v dpkg >/dev/null; then
        MODULE=$(dpkg -L softhsm2 2>/dev/null | grep -m1 '/libsofthsm2\.so$' || true)
        [[ -n $MODULE && -r $MODULE ]] && return 0
    fi
    MODULE=''
    return 1
}

ensure_installed() {
    if command -v softhsm2-util >/dev/null && find_module; then
        return 0
    fi
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
        die 3 "SoftHSM2 is not installed. Install it with: sudo apt-get install softhsm2" \
            "(Debian/Ubuntu; the package provides softhsm2-util and libsofthsm2.so)"
    fi
    log "installing softhsm2 with apt-get"
    apt-get update 3>&- || die 3 "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends softhsm2 3>&- ||
        die 3 "apt-get install softhsm2 failed"
    command -v softhsm2-util >/dev/null && find_module ||
        die 3 "softhsm2 installed, but softhsm2-util or libsofthsm2.so is still missing"
}

prepare_state() {
    (umask 077 && mkdir -p -- "$TOKEN_DIR")
    [[ -w $STATE_DIR ]] || die 3 "$STATE_DIR is not writable by $(id -un)"
    chmod 700 -- "$STATE_DIR" "$TOKEN_DIR"
    local want
    want=$(printf '%s\n' \
        "# SoftHSM2 configuration of this project only (scripts/ensure-softhsm.sh)." \
        "directories.tokendir = $TOKEN_DIR" \
        "objectstore.backend = file" \
        "log.level = ERROR" \
        "slots.removable = false")
    if [[ ! -f $CONF_FILE || $(<"$CONF_FILE") != "$want" ]]; then
        (umask 077 && printf '%s\n' "$want" >"$CONF_FILE.tmp.$$")
        mv -f -- "$CONF_FILE.tmp.$$" "$CONF_FILE"
    fi
    export SOFTHSM2_CONF=$CONF_FILE
}

take_lock() {
    if command -v flock >/dev/null; then
        exec 9>"$LOCK_FILE"
        flock -w 120 9 || die 3 "timed out waiting for another ensure-softhsm.sh run"
    fi
}

random_pin() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

read_pins() {
    SO_PIN=$(sed -n 's/^SO_PIN=//p' "$PIN_FILE")
    USER_PIN=$(sed -n 's/^USER_PIN=//p' "$PIN_FILE")
    [[ -n $SO_PIN && -n $USER_PIN ]] || die 3 "$PIN_FILE is damaged; run '$SELF reset'"
}

token_exists() {
    softhsm2-util --show-slots 2>/dev/null 3>&- | grep -qE "^[[:space:]]*Label:[[:space:]]+$1[[:space:]]*$"
}

cmd_ensure() {
    ensure_installed
    prepare_state
    take_lock
    if [[ ! -s $PIN_FILE ]]; then
        if token_exists "$LABEL"; then
            die 3 "token '$LABEL' exists in $TOKEN_DIR but $PIN_FILE is missing;" \
                "run '$SELF reset' to start again"
        fi
        (umask 077 && printf 'SO_PIN=%s\nUSER_PIN=%s\n' "$(random_pin)" "$(random_pin)" >"$PIN_FILE")
    fi
    chmod 600 -- "$PIN_FILE"
    read_pins
    if token_exists "$LABEL"; then
        log "token '$LABEL' is ready ($TOKEN_DIR)"
    else
        log "initialising token '$LABEL' in $TOKEN_DIR"
        softhsm2-util --init-token --free --label "$LABEL" \
            --so-pin "$SO_PIN" --pin "$USER_PIN" >&2 3>&- ||
            die 3 "softhsm2-util --init-token failed"
        token_exists "$LABEL" || die 3 "token '$LABEL' was not created"
    fi
    printf 'export %s=%q\n' \
        SOFTHSM2_CONF "$CONF_FILE" \
        CARNET_VAULT_BACKEND pkcs11 \
        CARNET_VAULT_PKCS11_MODULE "$MODULE" \
        CARNET_VAULT_PKCS11_TOKEN "$LABEL" \
        CARNET_VAULT_PKCS11_PIN "$USER_PIN" >&3
}

cmd_reset() {
    [[ -d $STATE_DIR ]] || exit 0
    take_lock
    rm -rf -- "$TOKEN_DIR" "$PIN_FILE" "$CONF_FILE"
    log "removed the tokens and PINs in $STATE_DIR"
}

ACTION=ensure
while (($#)); do
    case $1 in
    --label)
        [[ $# -ge 2 && $2 =~ ^[A-Za-z0-9._-]{1,32}$ ]] || die 2 "--label needs 1-32 characters [A-Za-z0-9._-]"
        LABEL=$2
        shift 2
        ;;
    reset)
        ACTION=reset
        shift
        ;;
    -h | --help)
        sed -n '2,27p' "$SELF" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *) die 2 "usage: $SELF [--label LABEL] | reset" ;;
    esac
done

case $ACTION in
ensure) cmd_ensure ;;
reset) cmd_reset ;;
esac
