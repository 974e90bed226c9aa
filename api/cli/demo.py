"""``callprobe demo``: the whole platform on this machine, with a demo project that keeps running.

Starts the embedded database, a reflector, an impairment relay in front of it
(3 % loss, 40 ms delay), the API and one agent, then creates (once; the key is
kept in ``data_dir/demo.json``) a project with probes: a clean call to the
reflector, a call through the relay, a call to a target that refuses (calls
judged by MOS: degraded below 4.0, unhealthy below 3.5), SIP OPTIONS to the
reflector and HTTP against the API itself.

Quiet unless ``verbose``: the API logs warnings only (no access log of the agent's
polling), the relay's closing statistics are dropped, and a summary block names the
page, wall and docs URLs and the key.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from api.settings import Settings
from store import cluster

console = Console()

LOCATION = "local"


@dataclass(frozen=True, kw_only=True, slots=True)
class Ports:
    """Where the demo listens: the API; the reflector's SIP port (the relay takes
    ``sip + 10``, the refusing target is ``sip + 19``); the first of 400 RTP ports (the
    relay's 200, then the reflector's)."""

    api: int = 8080
    sip: int = 5080
    rtp: int = 46000

    @property
    def relay(self) -> int:
        """The impairment relay's SIP port."""
        return self.sip + 10

    @property
    def refusing(self) -> int:
        """A port nothing answers on: the failing trunk's target."""
        return self.sip + 19


def _probes(api: str, ports: Ports) -> list[dict[str, Any]]:
    reflector = f"sip:echo@127.0.0.1:{ports.sip}"
    call = {"kind": "sip_call", "interval_s": 60, "timeout_s": 10, "locations": [LOCATION]}
    return [
        {**call, "name": "Clean call (reflector)", "target": reflector},
        {**call, "name": "Impaired call (3% loss)", "target": f"sip:echo@127.0.0.1:{ports.relay}"},
        {**call, "name": "Failing trunk", "target": f"sip:echo@127.0.0.1:{ports.refusing}"},
        {
            "kind": "sip_options",
            "name": "Reflector OPTIONS",
            "target": reflector,
            "interval_s": 15,
            "timeout_s": 5,
            "locations": [LOCATION],
        },
        {
            "kind": "http",
            "name": "API docs",
            "target": f"{api}/openapi.json",
            "interval_s": 15,
            "timeout_s": 5,
            "locations": [LOCATION],
        },
    ]


def run(settings: Settings, ports: Ports, *, verbose: bool = False) -> None:
    """Start everything, set up the demo project, and wait for Ctrl-C / SIGTERM."""
    url = settings.database_url or cluster.start(settings.pg_root, settings.db_port)
    api = f"http://127.0.0.1:{ports.api}"
    # Links in API responses (the page URLs) point at this API unless told otherwise.
    env = {"CALLPROBE_PUBLIC_URL": api, **os.environ, "CALLPROBE_DATABASE_URL": url}
    reflector = ["reflector", "--port", str(ports.sip), "--rtp-port", str(ports.rtp + 200)]
    serve = ["serve", "--port", str(ports.api), "--log-level", "info" if verbose else "warning"]
    procs = [
        _spawn(reflector, env),
        _spawn(_relay_args(ports), env, quiet=not verbose),
        _spawn(serve, env),
    ]
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        _wait_for(api)
        demo = _demo_project(settings.data_dir / "demo.json", api, url, ports)
        agent = ["agent", "--api", api, "--location", LOCATION]
        procs.append(_spawn(agent, {**env, "CALLPROBE_AGENT_TOKEN": demo["agent_token"]}))
        page = _demo_page(api, demo["key"])
        _summary(api, page, demo["key"], settings.data_dir / "demo.json")
        while all(proc.poll() is None for proc in procs):
            time.sleep(1)
        console.print("[red]a demo process exited[/red]")
    except KeyboardInterrupt:
        pass
    finally:
        for proc in reversed(procs):
            _stop(proc)


def _summary(api: str, page: dict[str, str], key: str, state: Path) -> None:
    """What a new user needs, in one block."""
    console.rule("callprobe demo")
    for label, value in (
        ("status page", page["page"]),
        ("NOC wall", page["wall"]),
        ("API docs", f"{api}/docs"),
        ("console", f"{api}/console/  (the first visit creates the owner account)"),
        ("write key", f"{key}  (kept in {state})"),
        ("try", f'curl -H "Authorization: Bearer {key}" {api}/v1/probes'),
    ):
        console.print(f"  {label:<12} {value}", soft_wrap=True, markup=False, highlight=False)
    console.rule()
    console.print("probes run every 15-60 s; Ctrl-C stops everything; --verbose shows all logs")


def _relay_args(ports: Ports) -> list[str]:
    return [
        "relay",
        "--listen",
        f"127.0.0.1:{ports.relay}",
        "--target",
        f"127.0.0.1:{ports.sip}",
        "--rtp-ports",
        f"{ports.rtp}-{ports.rtp + 199}",
        "--loss",
        "3",
        "--delay-ms",
        "40",
    ]


def _demo_project(state: Path, api: str, url: str, ports: Ports) -> dict[str, str]:
    """The demo project's key and agent token: reused while the key still works."""
    if state.exists():
        saved: dict[str, str] = json.loads(state.read_text())
        check = httpx.get(f"{api}/v1/project", headers=_auth(saved["key"]), timeout=5)
        if check.status_code == 200:
            return saved
    key = _create_project(url)
    httpx.post(
        f"{api}/v1/locations", json={"name": LOCATION}, headers=_auth(key)
    ).raise_for_status()
    agent = httpx.post(
        f"{api}/v1/agents", json={"name": "demo agent", "location": LOCATION}, headers=_auth(key)
    )
    agent.raise_for_status()
    for probe in _probes(api, ports):
        created = httpx.post(f"{api}/v1/probes", json=probe, headers=_auth(key))
        created.raise_for_status()
        if probe["kind"] == "sip_call":
            rule = {"metric": "mos", "warning": 4.0, "critical": 3.5}
            path = f"{api}/v1/probes/{created.json()['id']}/thresholds"
            httpx.post(path, json=rule, headers=_auth(key)).raise_for_status()
    saved = {"key": key, "agent_token": agent.json()["token"]}
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps(saved))
    state.chmod(0o600)
    return saved


def _demo_page(api: str, key: str) -> dict[str, str]:
    """The demo project's status page (created the first time): its public URLs."""
    pages = httpx.get(f"{api}/v1/pages", headers=_auth(key), timeout=5)
    pages.raise_for_status()
    if pages.json():
        urls: dict[str, str] = pages.json()[0]["urls"]
        return urls
    probes = httpx.get(f"{api}/v1/probes", headers=_auth(key), timeout=5)
    probes.raise_for_status()
    calls = [p for p in probes.json() if p["kind"] == "sip_call"]
    checks = [p for p in probes.json() if p["kind"] != "sip_call"]
    components = [{"probe_id": p["id"], "name": p["name"], "group": "Voice"} for p in calls] + [
        {"probe_id": p["id"], "name": p["name"], "group": "Signalling and API"} for p in checks
    ]
    body = {
        "name": "callprobe demo",
        "description": "Real SIP test calls against a local reflector, one through 3 % loss.",
        "slug": f"demo-{secrets.token_hex(3)}",
        "refresh_s": 30,
        "components": components,
    }
    created = httpx.post(f"{api}/v1/pages", json=body, headers=_auth(key), timeout=5)
    created.raise_for_status()
    urls = created.json()["urls"]
    return urls


def _create_project(url: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "api", "project", "create", "demo"],
        env={**os.environ, "CALLPROBE_DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _spawn(args: list[str], env: dict[str, str], *, quiet: bool = False) -> subprocess.Popen[bytes]:
    """``callprobe ARGS`` in its own session; ``quiet`` drops its standard output."""
    return subprocess.Popen(
        [sys.executable, "-m", "api", *args],
        env=env,
        stdout=subprocess.DEVNULL if quiet else None,
        start_new_session=True,
    )


def _wait_for(api: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api}/openapi.json", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"the API did not come up at {api}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process alone (the agent stops its own engine workers, which must not
    see the signal first), SIGKILL to its whole group if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
