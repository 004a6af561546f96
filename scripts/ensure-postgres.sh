#!/usr/bin/env bash
# scripts/ensure-postgres.sh — make a PostgreSQL server available for the test suite.
#
# Usage:
#   scripts/ensure-postgres.sh [start]   print ONE line on stdout: a libpq URL
#                                        postgres://USER:PASSWORD@HOST:PORT/DBNAME
#                                        of a role that can CREATE DATABASE / EXTENSION.
#   scripts/ensure-postgres.sh stop      stop the cluster this script started (no-op otherwise).
#
# Order of preference:
#   1. $DATABASE_URL, if it starts with "postgres"     -> printed unchanged.
#   2. a server already listening on 127.0.0.1:5432 that we can log into
#      (URL saved in var/pg/url by an earlier run, else user "postgres" with
#      $PGPASSWORD / without password).
#   3. our own PostgreSQL 15 test cluster (installed with apt-get when missing and
#      running as root), data in var/pg/data (or /tmp/carnet-pg-<uid>-<hash> when
#      the project directory is not traversable by the "postgres" system user),
#      listening on 127.0.0.1:5432, or 55432 when 5432 is taken.
#
# Everything except the URL goes to stderr. The password is generated once, kept in
# var/pg/password (mode 600), and only ever printed inside the URL on stdout.
#
# Exit codes: 0 ok, 2 usage error, 3 PostgreSQL not available (the caller decides
# whether to skip or fail, e.g. depending on CI=true).
#
# Environment overrides (optional): PG_BIN (default /usr/lib/postgresql/15/bin).

set -euo pipefail

ROOT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
SELF="$ROOT_DIR/scripts/$(basename -- "${BASH_SOURCE[0]}")"
STATE_DIR="$ROOT_DIR/var/pg"
URL_FILE="$STATE_DIR/url"
PW_FILE="$STATE_DIR/password"
LOC_FILE="$STATE_DIR/location"
LOCK_FILE="$STATE_DIR/lock"

PG_MAJOR=15
PG_BIN="${PG_BIN:-/usr/lib/postgresql/$PG_MAJOR/bin}"
PG_HOST=127.0.0.1
PG_PORT_DEFAULT=5432
PG_PORT_FALLBACK=55432
PG_ROLE=carnet
PG_DB=carnet
PG_OS_USER=postgres            # only used when running as root
REQUIRED_EXTENSIONS=(btree_gist unaccent pg_trgm)

# Keep the real stdout on fd 3 for the URL only; everything else goes to stderr.
# fd 3 (and the lock fd 9) are closed for long-lived children (postgres, apt/dpkg),
# otherwise `URL=$(scripts/ensure-postgres.sh)` would never see EOF.
exec 3>&1 1>&2
# Never depend on the caller's cwd (e.g. /root is not readable by "postgres").
cd /

log() { printf 'ensure-postgres: %s\n' "$*" >&2; }
die() {
    local code=$1
    shift
    log "ERROR: $*"
    exit "$code"
}
emit() {
    printf '%s\n' "$1" >&3
    exit 0
}

IS_ROOT=0
[[ $(id -u) -eq 0 ]] && IS_ROOT=1
PROJECT_HASH="$(printf '%s' "$ROOT_DIR" | sha256sum | cut -c1-12)"
TMP_BASE="/tmp/carnet-pg-$(id -u)-$PROJECT_HASH"

find_psql() {
    if [[ -x $PG_BIN/psql ]]; then
        PSQL="$PG_BIN/psql"
    else
        PSQL="$(command -v psql || true)"
    fi
}
find_psql

# Percent-encode a string for use in the userinfo part of a URL.
urlencode() {
    local LC_ALL=C s=$1 out='' c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in
        [A-Za-z0-9._~-]) out+=$c ;;
        *) printf -v c '%%%02X' "'$c" && out+=$c ;;
        esac
    done
    printf '%s' "$out"
}

# True when something accepts TCP connections on 127.0.0.1:$1.
is_listening() {
    timeout 2 bash -c ": <>/dev/tcp/$PG_HOST/$1" 2>/dev/null 3>&- 9>&-
}

# psql wrapper: never prompt, no psqlrc, short connect timeout.
run_psql() {
    local url=$1
    shift
    PGCONNECT_TIMEOUT=5 "$PSQL" -X -A -t -q -w -v ON_ERROR_STOP=1 -d "$url" "$@" </dev/null 3>&- 9>&-
}

# Succeeds when $1 connects and its role may create databases. Reason in TRY_ERR.
TRY_ERR=''
try_url() {
    local url=$1 out
    TRY_ERR=''
    if [[ -z $PSQL ]]; then
        TRY_ERR='psql not found'
        return 1
    fi
    if ! out=$(run_psql "$url" -c \
        "select rolsuper or rolcreatedb from pg_roles where rolname = current_user" 2>&1); then
        TRY_ERR=$(printf '%s' "$out" | head -n 1)
        return 1
    fi
    if [[ $out != t ]]; then
        TRY_ERR='connected, but the role can not CREATE DATABASE'
        return 1
    fi
}

warn_missing_extensions() {
    local url=$1 list n
    list=$(printf "'%s'," "${REQUIRED_EXTENSIONS[@]}")
    n=$(run_psql "$url" -c \
        "select count(*) from pg_available_extensions where name in (${list%,})" 2>/dev/null || echo '?')
    if [[ $n != "${#REQUIRED_EXTENSIONS[@]}" ]]; then
        log "WARNING: not all of ${REQUIRED_EXTENSIONS[*]} are available on this server" \
            "(install the PostgreSQL contrib modules, e.g. postgresql-$PG_MAJOR)"
    fi
}

# Run a command as the PostgreSQL OS user (ourselves when not root).
as_pg() {
    if ((IS_ROOT)); then
        runuser -u "$PG_OS_USER" -- "$@"
    else
        "$@"
    fi
}

ensure_pg_os_user() {
    ((IS_ROOT)) || return 0
    command -v runuser >/dev/null || die 3 "runuser (util-linux) is required to run PostgreSQL as root"
    if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
        log "creating system user '$PG_OS_USER'"
        useradd --system --user-group --no-create-home --home-dir /var/lib/postgresql \
            --shell /bin/bash --comment 'PostgreSQL administrator' "$PG_OS_USER"
    fi
}

have_server_binaries() {
    [[ -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl && -x $PG_BIN/postgres ]]
}

install_server() {
    have_server_binaries && return 0
    if ((!IS_ROOT)); then
        die 3 "PostgreSQL $PG_MAJOR server binaries not found in $PG_BIN." \
            "Install them with: sudo apt-get install postgresql-$PG_MAJOR" \
            "(or set DATABASE_URL=postgres://USER:PASSWORD@HOST:PORT/DBNAME)"
    fi
    command -v apt-get >/dev/null ||
        die 3 "PostgreSQL $PG_MAJOR is not installed and apt-get is not available; install postgresql-$PG_MAJOR"
    # On Debian 12 the contrib modules (btree_gist, unaccent, pg_trgm) ship in
    # postgresql-15 itself (postgresql-contrib-15 is a virtual package it provides).
    log "installing postgresql-$PG_MAJOR with apt-get (this may take a minute)"
    apt-get update 3>&- 9>&- || die 3 "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        "postgresql-$PG_MAJOR" "postgresql-client-$PG_MAJOR" 3>&- 9>&- ||
        die 3 "apt-get install postgresql-$PG_MAJOR failed"
    have_server_binaries || die 3 "postgresql-$PG_MAJOR installed but $PG_BIN/{initdb,pg_ctl,postgres} are missing"
    find_psql
}

# mkdir -p, then check nobody else owns it (matters for predictable /tmp paths).
make_owned_dir() {
    local dir=$1 mode=$2 owner=${3:-}
    mkdir -p -- "$dir"
    if [[ -n $owner ]]; then
        chown "$owner:" -- "$dir"
    fi
    local want_uid
    want_uid=$(id -u "${owner:-$(id -un)}")
    [[ $(stat -c %u -- "$dir") == "$want_uid" && ! -L $dir ]] ||
        die 3 "$dir exists but is not owned by ${owner:-$(id -un)}; remove it and retry"
    chmod "$mode" -- "$dir"
}

init_state_dir() {
    mkdir -p -- "$STATE_DIR"
    [[ -w $STATE_DIR ]] || die 3 "$STATE_DIR is not writable by $(id -un)"
}

# Decide where the cluster lives: var/pg, or /tmp when "postgres" can't get there.
choose_cluster_dir() {
    local loc=''
    [[ -r $LOC_FILE ]] && loc=$(<"$LOC_FILE")
    if [[ -n $loc && -f $loc/data/PG_VERSION ]]; then
        CLUSTER_DIR=$loc
        return
    fi
    CLUSTER_DIR=$STATE_DIR
    if ((IS_ROOT)); then
        chmod 0711 -- "$STATE_DIR" # traverse only; password/url files stay 0600
        if ! runuser -u "$PG_OS_USER" -- test -x "$STATE_DIR" 2>/dev/null; then
            CLUSTER_DIR=$TMP_BASE
            log "$ROOT_DIR is not traversable by '$PG_OS_USER'; placing the cluster in $CLUSTER_DIR"
        fi
    fi
}

set_cluster_paths() {
    DATA_DIR=$CLUSTER_DIR/data
    LOG_DIR=$CLUSTER_DIR/log
    LOG_FILE=$LOG_DIR/postgresql.log
    SOCK_DIR=$CLUSTER_DIR/run
    # Unix socket paths are limited to ~107 bytes and are passed through a shell
    # by pg_ctl: use a short, plain /tmp path when ours is long or unusual.
    if ((${#SOCK_DIR} > 80)) || [[ ! $SOCK_DIR =~ ^[A-Za-z0-9._/-]+$ ]]; then
        SOCK_DIR=$TMP_BASE-run
    fi
}

# 0 when our cluster is running (sets RUNNING_PORT).
cluster_running() {
    RUNNING_PORT=''
    [[ -f $DATA_DIR/PG_VERSION && -f $DATA_DIR/postmaster.pid ]] || return 1
    as_pg "$PG_BIN/pg_ctl" status -D "$DATA_DIR" >/dev/null 2>&1 3>&- 9>&- || return 1
    RUNNING_PORT=$(sed -n 4p "$DATA_DIR/postmaster.pid")
    [[ $RUNNING_PORT =~ ^[0-9]+$ ]]
}

# Port recorded in our cluster's postmaster.pid, if any (cheap hint, no pg_ctl).
our_running_port_hint() {
    local loc=$STATE_DIR
    [[ -r $LOC_FILE ]] && loc=$(<"$LOC_FILE")
    sed -n 4p "$loc/data/postmaster.pid" 2>/dev/null || true
}

take_lock() {
    if command -v flock >/dev/null; then
        exec 9>"$LOCK_FILE"
        flock -w 300 9 || die 3 "timed out waiting for another ensure-postgres.sh run ($LOCK_FILE)"
    fi
}

save_url() {
    local tmp="$URL_FILE.tmp.$$"
    (umask 077 && printf '%s\n' "$1" >"$tmp")
    mv -f -- "$tmp" "$URL_FILE"
}

cmd_stop() {
    [[ -d $STATE_DIR ]] || {
        log "no cluster of ours ($STATE_DIR missing); nothing to stop"
        exit 0
    }
    [[ -w $STATE_DIR ]] && take_lock
    CLUSTER_DIR=$STATE_DIR
    [[ -r $LOC_FILE ]] && CLUSTER_DIR=$(<"$LOC_FILE")
    set_cluster_paths
    if [[ ! -x $PG_BIN/pg_ctl ]] || { ((IS_ROOT)) && ! id -u "$PG_OS_USER" >/dev/null 2>&1; } ||
        ! cluster_running; then
        log "our cluster ($DATA_DIR) is not running; nothing to stop"
        exit 0
    fi
    log "stopping our cluster ($DATA_DIR, port $RUNNING_PORT)"
    as_pg "$PG_BIN/pg_ctl" stop -w -m fast -D "$DATA_DIR" 3>&- 9>&- ||
        die 1 "pg_ctl stop failed (see $LOG_FILE)"
    exit 0
}

cmd_start() {
    # 1. Explicit configuration wins.
    if [[ ${DATABASE_URL:-} == postgres* ]]; then
        log "using \$DATABASE_URL"
        emit "$DATABASE_URL"
    fi

    # 2. Reuse a running server: first the URL saved by an earlier run (fast path),
    #    then whatever listens on 127.0.0.1:5432.
    local avoid_default_port=0 saved=''
    if [[ -r $URL_FILE ]]; then
        saved=$(<"$URL_FILE")
        if [[ $saved == postgres* ]] && try_url "$saved"; then
            log "reusing the server from $URL_FILE"
            emit "$saved"
        fi
    fi
    if [[ $(our_running_port_hint) == "$PG_PORT_DEFAULT" ]]; then
        log "$PG_HOST:$PG_PORT_DEFAULT is served by our own cluster"
    elif is_listening "$PG_PORT_DEFAULT"; then
        local url
        if [[ -n ${PGPASSWORD:-} ]]; then
            url="postgres://postgres:$(urlencode "$PGPASSWORD")@$PG_HOST:$PG_PORT_DEFAULT/postgres"
        else
            url="postgres://postgres@$PG_HOST:$PG_PORT_DEFAULT/postgres"
        fi
        if try_url "$url"; then
            log "using the server already listening on $PG_HOST:$PG_PORT_DEFAULT (user postgres)"
            warn_missing_extensions "$url"
            emit "$url"
        fi
        log "a server listens on $PG_HOST:$PG_PORT_DEFAULT but we can not use it as user postgres" \
            "(${TRY_ERR:-unknown error}); starting our own cluster on port $PG_PORT_FALLBACK instead"
        avoid_default_port=1
    fi

    # 3. Our own cluster.
    install_server
    ensure_pg_os_user
    init_state_dir
    take_lock
    choose_cluster_dir
    set_cluster_paths
    printf '%s\n' "$CLUSTER_DIR" >"$LOC_FILE"

    local pg_owner=''
    ((IS_ROOT)) && pg_owner=$PG_OS_USER
    if [[ $CLUSTER_DIR != "$STATE_DIR" ]]; then
        make_owned_dir "$CLUSTER_DIR" 0711
    fi
    make_owned_dir "$DATA_DIR" 0700 "$pg_owner"
    make_owned_dir "$LOG_DIR" 0700 "$pg_owner"
    make_owned_dir "$SOCK_DIR" 0755 "$pg_owner"

    local initialized=0
    if [[ -f $DATA_DIR/PG_VERSION ]]; then
        initialized=1
        [[ $(<"$DATA_DIR/PG_VERSION") == "$PG_MAJOR" ]] ||
            die 3 "$DATA_DIR holds a PostgreSQL $(<"$DATA_DIR/PG_VERSION") cluster, expected $PG_MAJOR; remove it and retry"
    elif [[ -n $(ls -A -- "$DATA_DIR") ]]; then
        die 3 "$DATA_DIR is not empty but is not a PostgreSQL cluster; remove it and retry"
    fi

    if [[ ! -s $PW_FILE ]]; then
        ((initialized)) &&
            die 3 "$PW_FILE is missing for the existing cluster in $DATA_DIR;" \
                "stop it ('$SELF stop') and remove $DATA_DIR to re-create it"
        (umask 077 && od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$PW_FILE")
    fi
    chmod 600 -- "$PW_FILE"
    local password
    password=$(<"$PW_FILE")

    if ((!initialized)); then
        local locale=C
        grep -qixE 'c\.utf-?8' <<<"$(locale -a 2>/dev/null)" && locale=C.UTF-8
        log "initialising a PostgreSQL $PG_MAJOR test cluster in $DATA_DIR (superuser $PG_ROLE)"
        # The password reaches initdb through a pipe created by the postgres user
        # (a root-owned pipe can not be re-opened as /dev/stdin by another user).
        local initdb_log=$LOG_DIR/initdb.log
        # shellcheck disable=SC2016 # expanded by the inner shell, on purpose
        if ! printf '%s\n' "$password" | as_pg bash -c 'log=$1; shift; "$@" --pwfile=<(cat) >"$log" 2>&1' \
            _ "$initdb_log" "$PG_BIN/initdb" -D "$DATA_DIR" -U "$PG_ROLE" --auth=scram-sha-256 \
            --encoding=UTF8 --locale="$locale" --no-sync 3>&- 9>&-; then
            tail -n 20 -- "$initdb_log" >&2 2>/dev/null || true
            die 3 "initdb failed (see $initdb_log)"
        fi
    fi

    local port
    if cluster_running; then
        port=$RUNNING_PORT
        log "our cluster is already running on port $port"
    else
        if ((!avoid_default_port)) && ! is_listening "$PG_PORT_DEFAULT"; then
            port=$PG_PORT_DEFAULT
        elif ! is_listening "$PG_PORT_FALLBACK"; then
            port=$PG_PORT_FALLBACK
        else
            die 3 "ports $PG_PORT_DEFAULT and $PG_PORT_FALLBACK on $PG_HOST are both taken"
        fi
        log "starting our cluster on $PG_HOST:$port (log: $LOG_FILE)"
        if ! as_pg "$PG_BIN/pg_ctl" start -w -t 60 -D "$DATA_DIR" -l "$LOG_FILE" \
            -o "-c listen_addresses=$PG_HOST -p $port -k $SOCK_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            3>&- 9>&- >&2; then
            tail -n 20 -- "$LOG_FILE" >&2 2>/dev/null || true
            die 3 "could not start PostgreSQL (see $LOG_FILE)"
        fi
    fi

    local admin_url="postgres://$PG_ROLE:$password@$PG_HOST:$port/postgres"
    local url="postgres://$PG_ROLE:$password@$PG_HOST:$port/$PG_DB"
    try_url "$admin_url" || die 3 "our cluster runs on port $port but we can not log in: $TRY_ERR"
    if [[ $(run_psql "$admin_url" -c "select 1 from pg_database where datname = '$PG_DB'") != 1 ]]; then
        run_psql "$admin_url" -c "create database \"$PG_DB\"" || die 3 "could not create database $PG_DB"
    fi
    warn_missing_extensions "$url"
    save_url "$url"
    emit "$url"
}

case ${1:-start} in
start) cmd_start ;;
stop) cmd_stop ;;
-h | --help)
    sed -n '2,26p' "$SELF" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
*)
    log "usage: $SELF [start|stop]"
    exit 2
    ;;
esac
