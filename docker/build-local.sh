#!/usr/bin/env bash
# Build callprobe's three images with podman from the Debian package mirror alone
# (no container registry is reachable here). Idempotent: installs podman and its
# helpers if missing, writes a containers.conf, makes the base image once with
# debootstrap, then builds (layer cache permitting, quickly):
#   localhost/callprobe:local              docker/Dockerfile
#   localhost/callprobe-timescaledb:pg15   docker/timescaledb/Dockerfile
#   localhost/callprobe-caddy:local        docker/caddy/Dockerfile
#
# The base is trimmed like Debian's -slim images (no apt lists, docs, man pages or
# locales) and trusts the CA certificates this host adds in
# /usr/local/share/ca-certificates, so pip and apt inside a build get through the
# same TLS-inspecting egress the host uses.
#
# Env: CALLPROBE_CONTAINERS_DIR (default <repo>/.var/containers) holds the
# containers.conf, the base root filesystem and the build logs.
set -euo pipefail

readonly BASE_IMAGE=localhost/debian:bookworm-min
readonly PACKAGES=(podman runc debootstrap uidmap slirp4netns fuse-overlayfs podman-compose)

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state=${CALLPROBE_CONTAINERS_DIR:-$repo_root/.var/containers}
export CONTAINERS_CONF=$state/containers.conf

log() { printf 'build-local: %s\n' "$*" >&2; }

# The Debian archive (suffix "debian") or security archive ("debian-security") this
# machine's apt uses, from deb822 or one-line sources; empty when it has none.
system_mirror() {
    { grep -hoP '^URIs:\s*\K\S+' /etc/apt/sources.list.d/*.sources 2>/dev/null || true
        grep -hoP '^deb\s+(\[[^]]*\]\s+)?\K\S+' /etc/apt/sources.list 2>/dev/null || true
    } | grep -E "/$1/?\$" | head -n 1
}

ensure_packages() {
    local missing=() pkg
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) && return 0
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
        "${missing[@]}"
}

# crun fails on this host's hybrid cgroups; systemd cgroups and default ulimits are
# not available to containers here.
write_conf() {
    mkdir -p "$state"
    cat >"$CONTAINERS_CONF" <<'EOF'
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
EOF
}

# Trim a debootstrapped tree the way the -slim images are, and keep it trimmed.
slim() {
    local root=$1 mirror=$2
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/usr/share/doc/* \
        "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/*
    cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
    # apt keeps no downloaded packages or caches in the layers (Debian's images do this).
    cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
EOF
    local security
    security=$(system_mirror debian-security)
    {
        printf 'deb %s %s main\n' "$mirror" bookworm "$mirror" bookworm-updates
        [[ -z $security ]] || printf 'deb %s bookworm-security main\n' "$security"
    } >"$root/etc/apt/sources.list"
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" 2>/dev/null \
        || true
}

ensure_base() {
    if podman image exists "$BASE_IMAGE"; then
        return 0
    fi
    local root=$state/bookworm-min mirror
    mirror=$(system_mirror debian)
    [[ -n $mirror ]] || { log "no Debian mirror found in /etc/apt/sources*"; exit 1; }
    if [[ ! -d $root ]]; then
        log "debootstrap bookworm from $mirror"
        rm -rf "$root.tmp"
        debootstrap --variant=minbase bookworm "$root.tmp" "$mirror" >"$state/debootstrap.log"
        mv "$root.tmp" "$root"
    fi
    slim "$root" "$mirror"
    tar -C "$root" -c . | podman import --quiet - "$BASE_IMAGE" >/dev/null
}

build() {
    local tag=$1 dockerfile=$2 context=$3 start=$SECONDS name
    name=${tag##*/}
    log "building $tag (log: $state/build-${name//:/-}.log)"
    podman build --format docker --network host --build-arg BASE="$BASE_IMAGE" \
        -f "$dockerfile" -t "$tag" \
        "$context" >"$state/build-${name//:/-}.log" 2>&1 \
        || { tail -n 30 "$state/build-${name//:/-}.log" >&2; exit 1; }
    log "$tag built in $((SECONDS - start)) s"
}

main() {
    ensure_packages
    write_conf
    ensure_base
    build localhost/callprobe:local "$repo_root/docker/Dockerfile" "$repo_root"
    build localhost/callprobe-timescaledb:pg15 "$repo_root/docker/timescaledb/Dockerfile" "$repo_root"
    build localhost/callprobe-caddy:local "$repo_root/docker/caddy/Dockerfile" "$repo_root/docker/caddy"
    podman image prune --force >/dev/null  # the layers earlier builds left untagged
    podman image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' \
        | grep -E 'callprobe|bookworm-min'
}

main "$@"
