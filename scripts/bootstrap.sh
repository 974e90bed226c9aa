#!/usr/bin/env bash
# Install everything callprobe needs on Debian bookworm, idempotently:
# apt packages, the TimescaleDB extension (built from Debian's source package),
# and a virtualenv with the project. Re-running does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  postgresql-15 postgresql-server-dev-15 cmake dpkg-dev gcc make
  sip-tester kamailio tshark espeak-ng sox python3-venv chromium wrk caddy faketime
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# Debian starts a system cluster on 5432 at install; ours runs on its own port, so leave it.
# Likewise caddy's own service (port 80, under systemd): `callprobe cluster` runs its own Caddy.

bash scripts/install-timescaledb.sh

PYTHON=${PYTHON:-python3}
stamp=.venv/.callprobe-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [[ ! -x .venv/bin/python ]]; then
  "$PYTHON" -m venv .venv
fi
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".[dev]"
  echo "$want" > "$stamp"
fi
echo "bootstrap: ready"
