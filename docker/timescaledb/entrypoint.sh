#!/usr/bin/env bash
# Entry point of the local TimescaleDB image: on an empty $PGDATA, initialise a
# cluster from POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE), POSTGRES_USER (its
# superuser, default postgres) and POSTGRES_DB (default: the user's name), as the
# official image does; then run the server in the foreground (PID 1, so `podman stop`
# is PostgreSQL's smart shutdown). Any command other than "postgres" runs as given.
set -euo pipefail

log() { printf 'timescaledb-entrypoint: %s\n' "$*" >&2; }

# $1's value, from the variable itself or from the file named by ${1}_FILE.
from_env_or_file() {
    local file_var="${1}_FILE"
    if [[ -n ${!file_var:-} ]]; then
        tr -d '\r\n' <"${!file_var}"
    else
        printf '%s' "${!1:-}"
    fi
}

write_settings() {
    cat >>"$PGDATA/postgresql.conf" <<'CONF'
# timescaledb-entrypoint
listen_addresses = '*'
unix_socket_directories = '/tmp'
password_encryption = 'scram-sha-256'
shared_preload_libraries = 'timescaledb'
timescaledb.telemetry_level = off
CONF
}

init_cluster() {
    local user=${POSTGRES_USER:-postgres} password pwfile
    local db=${POSTGRES_DB:-$user}
    password=$(from_env_or_file POSTGRES_PASSWORD)
    [[ -n $password ]] || { log "set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE"; exit 1; }
    pwfile=$(mktemp)
    printf '%s\n' "$password" >"$pwfile"
    log "initialising $PGDATA (superuser $user, database $db)"
    initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    write_settings
    create_database "$user" "$db"
}

# The database and the extension in it, on a server reachable by socket only meanwhile.
create_database() {
    local user=$1 db=$2
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    if [[ $db != postgres ]]; then
        psql -v ON_ERROR_STOP=1 -U "$user" -d postgres -v db="$db" -v owner="$user" \
            <<<'CREATE DATABASE :"db" OWNER :"owner";' >/dev/null
    fi
    psql -v ON_ERROR_STOP=1 -U "$user" -d "$db" -c 'CREATE EXTENSION IF NOT EXISTS timescaledb' \
        >/dev/null
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
}

main() {
    if [[ ${1:-postgres} != postgres ]]; then
        exec "$@"
    fi
    [[ -s $PGDATA/PG_VERSION ]] || init_cluster
    shift || true
    exec postgres -D "$PGDATA" "$@"
}

main "$@"
