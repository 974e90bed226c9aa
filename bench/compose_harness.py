"""The compose topology under podman, from Python: a thin layer over docker/up-local.sh.

For the container fault runs (``tests/acceptance/test_containers.py``, the lead's
10-minute run): bring the topology up or down, kill / stop / start one service by
its compose name (``db``, ``api-1``, ``api-2``, ``proxy``, ``agent-ams``,
``agent-fra``), read the secrets the script generated, and reach the database the
containers use (published on 127.0.0.1:25600).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "docker" / "up-local.sh"
STATE = Path(os.environ.get("CALLPROBE_CONTAINERS_DIR", REPO / ".var" / "containers"))
SECRETS = Path(os.environ.get("CALLPROBE_SECRETS_DIR", STATE / "secrets"))
API = f"http://127.0.0.1:{os.environ.get('PROXY_HTTP_PORT', '18680')}"
DB_PORT = int(os.environ.get("DB_PORT", "25600"))
SERVICES = ("db", "migrate", "api-1", "api-2", "pages-1", "proxy", "agent-ams", "agent-fra")


def script(*args: str, timeout: float = 900) -> str:
    """Run ``docker/up-local.sh ARGS`` and return its output (raises on failure)."""
    done = subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"up-local.sh {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def up() -> None:
    """Build missing images, start everything, enrol the agents (once)."""
    script("up")


def down() -> None:
    """Remove the containers, their volumes and the agent tokens."""
    script("down", timeout=180)


def act(command: str, service: str) -> None:
    """``kill`` (SIGKILL), ``stop``, ``start`` or ``restart`` one service's container."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; one of {SERVICES}")
    script(command, service, timeout=120)


def secret(name: str) -> str:
    """A generated secret: ``admin_token``, ``project_key``, ``db_password``, ..."""
    return (SECRETS / name).read_text(encoding="utf-8").strip()


def db_url() -> str:
    """The containers' database, as published on the host."""
    return f"postgresql://callprobe:{secret('db_password')}@127.0.0.1:{DB_PORT}/callprobe"


def _podman(*args: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "CONTAINERS_CONF": str(STATE / "containers.conf")}
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, check=False, env=environ
    )


def state(service: str) -> str:
    """The container's state (``running``, ``exited``, ...; ``missing`` when absent)."""
    done = _podman("inspect", "--format", "{{.State.Status}}", f"callprobe_{service}_1")
    return done.stdout.strip() if done.returncode == 0 else "missing"


def healthy(service: str) -> bool:
    """Run the container's health check once: without systemd, podman runs none on a timer."""
    return _podman("healthcheck", "run", f"callprobe_{service}_1").returncode == 0


def wait_ready(timeout: float = 60) -> None:
    """Wait until the proxy answers ``/readyz`` with 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{API}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{API}/readyz did not answer 200 within {timeout} s")
