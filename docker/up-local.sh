#!/usr/bin/env bash
# Run docker/compose.yaml under podman-compose (Debian's 1.0.3) with the images
# docker/build-local.sh made, and act on one service at a time (the fault runs' handle):
#
#   docker/up-local.sh up                 secrets, images, db + migrate + APIs + page
#                                         process + proxy,
#                                         enrol the agents once, start them
#   docker/up-local.sh down               remove the containers, volumes and agent tokens
#   docker/up-local.sh kill SERVICE       SIGKILL one service's container (podman kill)
#   docker/up-local.sh stop|start|restart SERVICE
#   docker/up-local.sh ps | logs SERVICE | compose ARGS...
#
# podman-compose 1.0.3 has no `kill` and ignores depends_on conditions, hence the
# explicit order here. Secrets live in $CALLPROBE_SECRETS_DIR (default
# <repo>/.var/containers/secrets): generated on first use, never printed. Enrolment
# (a project "compose", locations ams and fra, one agent each) goes through the proxy
# with the admin token; the project's write key is kept there as project_key.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state=${CALLPROBE_CONTAINERS_DIR:-$repo_root/.var/containers}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$state/containers.conf}
export CALLPROBE_SECRETS_DIR=${CALLPROBE_SECRETS_DIR:-$state/secrets}
export CALLPROBE_IMAGE=${CALLPROBE_IMAGE:-localhost/callprobe:local}
export TIMESCALEDB_IMAGE=${TIMESCALEDB_IMAGE:-localhost/callprobe-timescaledb:pg15}
export CADDY_IMAGE=${CADDY_IMAGE:-localhost/callprobe-caddy:local}
export PROXY_HTTP_PORT=${PROXY_HTTP_PORT:-18680}
readonly PROJECT=callprobe
readonly LOCATIONS=(ams fra)
readonly CORE=(db migrate api-1 api-2 pages-1 proxy)
api="http://127.0.0.1:$PROXY_HTTP_PORT"

log() { printf 'up-local: %s\n' "$*" >&2; }
compose() { podman-compose -p "$PROJECT" -f "$repo_root/docker/compose.yaml" "$@"; }
# podman-compose and podman are chatty (each container start logs that no systemd
# runs its health-check timer): their output goes to a log.
quietly() { "$@" >>"$state/compose.log" 2>&1 || { tail -n 20 "$state/compose.log" >&2; return 1; }; }
container() { printf '%s_%s_1' "$PROJECT" "$1"; }
secret_file() { printf '%s/%s' "$CALLPROBE_SECRETS_DIR" "$1"; }

# Writes secret $1 with the output of the rest, unless it exists and is not empty.
ensure_secret() {
    local file
    file=$(secret_file "$1")
    shift
    [[ -s $file ]] || (umask 077 && "$@" >"$file")
}

random_token() { python3 -c 'import secrets; print(secrets.token_urlsafe(32))'; }
fernet_key() { python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'; }
database_url() { printf 'postgresql://callprobe:%s@db:5432/callprobe\n' "$(cat "$(secret_file db_password)")"; }

ensure_secrets() {
    mkdir -p "$CALLPROBE_SECRETS_DIR"
    chmod 0700 "$CALLPROBE_SECRETS_DIR"
    ensure_secret db_password python3 -c 'import secrets; print(secrets.token_hex(24))'
    ensure_secret database_url database_url
    ensure_secret admin_token random_token
    ensure_secret secret_key fernet_key
    local location
    for location in "${LOCATIONS[@]}"; do
        touch "$(secret_file "agent_${location}_token")"
    done
    # The containers' users (callprobe 10001, postgres 999) read the mounted files.
    chmod 0644 "$CALLPROBE_SECRETS_DIR"/*
    chmod 0711 "$CALLPROBE_SECRETS_DIR"
}

ensure_images() {
    local image
    for image in "$CALLPROBE_IMAGE" "$TIMESCALEDB_IMAGE" "$CADDY_IMAGE"; do
        podman image exists "$image" || { bash "$repo_root/docker/build-local.sh"; return; }
    done
}

wait_ready() {
    local deadline=$((SECONDS + ${1:-180}))
    until curl -fsS -o /dev/null "$api/readyz"; do
        ((SECONDS < deadline)) || { log "no answer on $api/readyz"; exit 1; }
        sleep 1
    done
}

# POST $2 (JSON) to $1 with bearer $3; prints the response body.
post() {
    curl -fsS -X POST "$api$1" -H "Authorization: Bearer $3" \
        -H 'Content-Type: application/json' -d "$2"
}

json_field() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }

enrol() {
    [[ -s $(secret_file "agent_${LOCATIONS[0]}_token") ]] && return 0
    log "enrolling project, locations and agents"
    local admin body key location
    admin=$(cat "$(secret_file admin_token)")
    body=$(post /v1/projects '{"name": "compose"}' "$admin")
    key=$(json_field "['key']['token']" <<<"$body")
    (umask 077 && printf '%s\n' "$key" >"$(secret_file project_key)")
    for location in "${LOCATIONS[@]}"; do
        post /v1/locations "{\"name\": \"$location\"}" "$key" >/dev/null
        post /v1/agents "{\"name\": \"agent-$location\", \"location\": \"$location\"}" "$key" \
            | json_field "['token']" >"$(secret_file "agent_${location}_token")"
    done
}

up() {
    ensure_images
    ensure_secrets
    quietly compose up -d "${CORE[@]}"
    wait_ready
    enrol
    quietly compose up -d --no-deps "${LOCATIONS[@]/#/agent-}"
    log "up: $api (secrets in $CALLPROBE_SECRETS_DIR)"
}

down() {
    compose down -v >/dev/null 2>&1 || true
    local volume
    for volume in db-data caddy-data agent-ams-spool agent-fra-spool; do
        podman volume rm -f "${PROJECT}_$volume" >/dev/null 2>&1 || true
    done
    rm -f "$CALLPROBE_SECRETS_DIR"/agent_*_token "$CALLPROBE_SECRETS_DIR/project_key"
}

main() {
    local command=${1:-up}
    shift || true
    case $command in
        up) up ;;
        down) down ;;
        kill) quietly podman kill --signal KILL "$(container "$1")" ;;
        stop | start | restart) quietly podman "$command" "$(container "$1")" ;;
        ps) compose ps ;;
        logs) podman logs "$(container "$1")" 2>&1 ;;
        compose) compose "$@" ;;
        *) log "unknown command $command (up, down, kill, stop, start, restart, ps, logs, compose)"; exit 2 ;;
    esac
}

main "$@"
