#!/usr/bin/env bash
# Entrypoint of harness/postgres: the official postgres image's interface, on Debian's postgresql-15.
# First start with an empty $PGDATA: initdb as $POSTGRES_USER with $POSTGRES_PASSWORD, password auth
# for every TCP client, create $POSTGRES_DB, run /docker-entrypoint-initdb.d; then run postgres as
# the postgres user, listening on all container interfaces.
set -Eeuo pipefail

# VAR_FILE support as in the official image (Docker secrets): VAR or VAR_FILE, never both.
file_env() {
    local var="$1" file_var="${1}_FILE" default="${2:-}"
    if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
        echo >&2 "error: both $var and $file_var are set (but are exclusive)"
        exit 1
    fi
    local value="$default"
    if [ -n "${!var:-}" ]; then
        value="${!var}"
    elif [ -n "${!file_var:-}" ]; then
        value="$(< "${!file_var}")"
    fi
    export "$var"="$value"
    unset "$file_var"
}

setup_env() {
    file_env POSTGRES_PASSWORD
    file_env POSTGRES_USER postgres
    file_env POSTGRES_DB "$POSTGRES_USER"
    file_env POSTGRES_INITDB_ARGS
    : "${POSTGRES_HOST_AUTH_METHOD:=}"
}

require_password() {
    if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
        cat >&2 <<'MSG'
Error: the database is uninitialized and POSTGRES_PASSWORD is not set.
       Set POSTGRES_PASSWORD to a non-empty value for the superuser, or set
       POSTGRES_HOST_AUTH_METHOD=trust to allow all connections without a password (tests only).
MSG
        exit 1
    fi
}

TEMPLATE=/var/lib/postgresql/template

# The build-time cluster fits when it is what initdb would make now: same superuser, default
# initdb options (--no-sync only changes how initdb writes), no init scripts needing a live server.
template_fits() {
    [ -s "$TEMPLATE/PG_VERSION" ] || return 1
    [ "$POSTGRES_USER" = postgres ] || return 1
    case " $POSTGRES_INITDB_ARGS " in
        "  " | " --no-sync " | " -N ") ;;
        *) return 1 ;;
    esac
    [ -z "$(ls -A /docker-entrypoint-initdb.d 2>/dev/null)" ] || return 1
    case "$POSTGRES_PASSWORD" in *$'\n'*) return 1 ;; esac
    return 0
}

configure_access() {
    local method="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
    printf '\nhost all all all %s\n' "$method" >> "$PGDATA/pg_hba.conf"
    printf "\nlisten_addresses = '*'\n" >> "$PGDATA/postgresql.conf"
}

# Password and database through single-user mode on stdin: no server, no password in argv.
init_from_template() {
    cp -a "$TEMPLATE/." "$PGDATA/"
    configure_access
    local sql="" quoted
    if [ -n "$POSTGRES_PASSWORD" ]; then
        quoted="${POSTGRES_PASSWORD//\'/\'\'}"
        sql+="ALTER ROLE postgres PASSWORD '$quoted';"$'\n'
    fi
    if [ "$POSTGRES_DB" != postgres ]; then
        sql+="CREATE DATABASE \"${POSTGRES_DB//\"/\"\"}\";"$'\n'
    fi
    if [ -n "$sql" ]; then
        # Single-user mode reports SQL errors on its output but exits 0: look for them. Only the
        # ERROR lines are shown, never the STATEMENT lines (they would carry the password).
        local out
        out="$(postgres --single -D "$PGDATA" -c listen_addresses='' postgres <<<"$sql" 2>&1)" || true
        if grep -q '^\(ERROR\|FATAL\|PANIC\):' <<<"$out"; then
            grep '^\(ERROR\|FATAL\|PANIC\):' <<<"$out" >&2
            echo >&2 "error: setting the superuser password / creating $POSTGRES_DB in single-user mode failed"
            exit 1
        fi
    fi
    echo "PostgreSQL init process complete (from the build-time cluster); ready for start up."
}

init_database() {
    require_password
    if template_fits; then
        init_from_template
        return
    fi
    # --pwfile from a pipe keeps the password off the command line (and out of `ps`).
    # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a word list by contract
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
        --encoding=UTF8 --locale=C.UTF-8 $POSTGRES_INITDB_ARGS -D "$PGDATA" >/dev/null
    configure_access

    # A temporary server on the Unix socket only: no TCP client sees a half-initialised database.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start >/dev/null
    local psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --no-password)
    if [ "$POSTGRES_DB" != postgres ]; then
        "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";' >/dev/null
    fi
    local f
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
            *.sh) echo "$0: running $f"; # shellcheck disable=SC1090
                  . "$f" ;;
            *.sql) echo "$0: running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
            *.sql.gz) echo "$0: running $f"; gunzip -c "$f" | "${psql[@]}" --dbname "$POSTGRES_DB" ;;
            *) [ -e "$f" ] && echo "$0: ignoring $f" ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo "PostgreSQL init process complete; ready for start up."
}

main() {
    if [ "${1:0:1}" = '-' ]; then
        set -- postgres "$@"
    fi
    if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
        # As root: own the data and socket directories, then drop to the postgres user.
        mkdir -p "$PGDATA" /var/run/postgresql
        chown postgres:postgres "$PGDATA" /var/run/postgresql
        chmod 700 "$PGDATA"
        exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
    fi
    if [ "$1" = postgres ]; then
        setup_env
        if [ ! -s "$PGDATA/PG_VERSION" ]; then
            init_database
        fi
        unset POSTGRES_PASSWORD
    fi
    exec "$@"
}

main "$@"
