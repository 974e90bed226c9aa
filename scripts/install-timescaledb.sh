#!/usr/bin/env bash
# Build and install TimescaleDB (Apache-2.0 edition) for PostgreSQL 15 on Debian bookworm.
#
# Bookworm packages no TimescaleDB, so this builds Debian trixie's source package
# against bookworm's postgresql-server-dev-15. The source is fetched with apt-get
# through a private apt state directory: the system's sources, lists and cache are
# never touched. Idempotent: exits at once when the extension is already installed.
#
# Trust chain: apt checks trixie's InRelease against debian-archive-keyring.gpg
# (bookworm's 2023.3+deb12u2 already carries the 13/trixie keys), then the Sources
# index hash, then the hashes of the .dsc and tarballs listed in it. That is the
# archive's own verification, so no --allow-unauthenticated is needed. The .dsc's
# own OpenPGP signature is the uploader's key (debian-keyring, not installed);
# dpkg-source only warns about it, and the archive chain above already covers it.
#
# Env: CALLPROBE_BUILD_DIR overrides the work dir (default <repo>/.var/build/timescaledb).
set -euo pipefail

readonly PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
readonly SUITE=trixie
readonly KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
readonly APT_PACKAGES=(postgresql-15 postgresql-server-dev-15 cmake dpkg-dev gcc make debian-archive-keyring)

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_root=${CALLPROBE_BUILD_DIR:-$repo_root/.var/build/timescaledb}

log() { printf 'install-timescaledb: %s\n' "$*" >&2; }

# The Debian mirror this machine already uses (deb822 or one-line sources), so the
# script works wherever apt does and names no host of its own.
system_mirror() {
    local uri
    uri=$(grep -hoP '^URIs:\s*\K\S+' /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -v security | head -n 1 || true)
    [[ -n $uri ]] || uri=$(grep -hoP '^deb\s+(\[[^]]*\]\s+)?\K\S+' /etc/apt/sources.list 2>/dev/null \
        | grep -v security | head -n 1 || true)
    [[ -n $uri ]] || { log "no Debian mirror found in /etc/apt/sources*"; exit 1; }
    printf '%s\n' "$uri"
}

installed() {
    [[ -x $PG_CONFIG ]] && [[ -f "$("$PG_CONFIG" --sharedir)/extension/timescaledb.control" ]]
}

ensure_packages() {
    local missing=() pkg
    for pkg in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$pkg")
    done
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# apt-get with a private state: only our deb-src line, our lists, our cache.
private_apt() {
    local state=$build_root/apt
    apt-get -q \
        -o Dir::Etc::SourceList="$state/sources.list" \
        -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State::Lists="$state/lists" \
        -o Dir::Cache="$state/cache" \
        "$@"
}

fetch_source() {
    local state=$build_root/apt
    rm -rf "$build_root/src"
    mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$build_root/src"
    echo "deb-src [signed-by=$KEYRING] $(system_mirror) $SUITE main" >"$state/sources.list"
    # The download dir must be writable by apt's sandbox user, else apt warns and
    # downloads as root.
    chown _apt "$build_root/src" 2>/dev/null || true
    private_apt update
    (cd "$build_root/src" && private_apt source timescaledb)
}

build_and_install() {
    local src
    src=$(find "$build_root/src" -mindepth 1 -maxdepth 1 -type d -name 'timescaledb-*' | head -n1)
    [[ -n $src ]] || { log "no unpacked source under $build_root/src"; exit 1; }
    log "building $(basename "$src")"
    (cd "$src" && ./bootstrap -DAPACHE_ONLY=1 -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF \
        -DUSE_TELEMETRY=OFF -DPG_CONFIG="$PG_CONFIG")
    make -C "$src/build" -j"$(nproc)"
    make -C "$src/build" install
}

main() {
    if installed; then
        log "already installed"
        exit 0
    fi
    mkdir -p "$build_root"
    exec 9>"$build_root/.lock"
    flock 9
    installed && { log "installed by a concurrent run"; exit 0; }
    ensure_packages
    fetch_source
    build_and_install
    installed || { log "build finished but timescaledb.control is missing"; exit 1; }
    log "installed into $("$PG_CONFIG" --pkglibdir)"
}

main "$@"
