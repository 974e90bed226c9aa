"""Two API processes and four agents in two locations on a real cluster, and the checks.

Shared by ``tests/acceptance/test_platform.py`` (45 s) and ``bench/platform_run.py``
(the issue's 10-minute run). Everything is a real subprocess: ``callprobe serve``
and ``callprobe agent --no-calls`` running TCP probes against a local listener and
a black hole (each such run stays in hand for its timeout).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from store import cluster, migrate, pool

ADMIN = "admin-token-for-platform-runs-0123456789"
BLACK_HOLE = "203.0.113.9:9"
LOCATIONS = ("ams", "fra")


def fresh_cluster(name: str, port: int) -> tuple[Path, str]:
    """A new migrated cluster at ``.var/<name>`` on ``port`` (one left there by an earlier
    run is stopped and removed first): its root and URL."""
    root = cluster.default_root(name)
    cluster.stop(root)
    shutil.rmtree(root, ignore_errors=True)
    url = cluster.start(root, port)
    with pool.connect(url) as conn:
        migrate.migrate(conn)
    return root, url


@contextlib.contextmanager
def listening() -> Iterator[int]:
    """A local TCP port that accepts and closes every connection (the probes' target).

    Accepting matters on long runs: a listener that never accepts fills its backlog,
    after which every connect times out (seen: 40,000 connections in 10 minutes)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1024)

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                server.accept()[0].close()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield server.getsockname()[1]
    finally:
        with contextlib.suppress(OSError):
            server.shutdown(socket.SHUT_RDWR)
        server.close()


@contextlib.contextmanager
def black_hole() -> Iterator[str]:
    """A local ``host:port`` where a TCP connect hangs until the probe's timeout.

    This host's network answers every outside connect (``BLACK_HOLE`` connects at once
    here), so: a listener with a backlog of 0 whose one queue place is taken, never
    accepting: the kernel drops every further SYN."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    filler = socket.create_connection(server.getsockname())
    try:
        yield f"127.0.0.1:{server.getsockname()[1]}"
    finally:
        filler.close()
        server.close()


def env(url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of every process: short grace, poll and sweep for quick runs."""
    return {
        **os.environ,
        "CALLPROBE_DATABASE_URL": url,
        "CALLPROBE_ADMIN_TOKEN": ADMIN,
        "CALLPROBE_DATA_DIR": str(data_dir),
        "CALLPROBE_LEASE_GRACE_S": "2",
        "CALLPROBE_SWEEP_INTERVAL_S": "5",
        "CALLPROBE_AGENT_POLL_S": "0.5",
        **extra,
    }


def _callprobe(
    *args: str, environ: dict[str, str], prefix: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*prefix, sys.executable, "-m", "api", *args],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def serve(port: int, environ: dict[str, str], *options: str) -> subprocess.Popen[bytes]:
    """Start ``callprobe serve`` (with extra ``options``) and wait until it answers."""
    proc = _callprobe("serve", "--port", str(port), *options, environ=environ)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"API on {port} did not start")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Stop a process group (SIGKILL if it lingers)."""
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@dataclass
class World:
    """The project, its key, and per location the agents' tokens and ids."""

    project: str
    key: dict[str, str]
    tokens: dict[str, list[str]] = field(default_factory=dict)
    agent_ids: dict[str, list[str]] = field(default_factory=dict)


def setup(
    base: str,
    target_port: int,
    probes: int,
    interval_s: int,
    *,
    black_hole_every: int,
    policy: dict[str, Any] | None = None,
    black_hole: str = BLACK_HOLE,
) -> World:
    """A project with two locations of two agents each, and ``probes`` TCP probes at both
    (``policy``: their judging policy, a quorum of 2 unless given); every
    ``black_hole_every``-th probe targets ``black_hole``."""
    admin = {"Authorization": f"Bearer {ADMIN}"}
    created = httpx.post(f"{base}/v1/projects", json={"name": "platform"}, headers=admin)
    created.raise_for_status()
    key = {"Authorization": f"Bearer {created.json()['key']['token']}"}
    world = World(project=created.json()["project"]["id"], key=key)
    for location in LOCATIONS:
        httpx.post(f"{base}/v1/locations", json={"name": location}, headers=key).raise_for_status()
        for n in range(2):
            agent = httpx.post(
                f"{base}/v1/agents",
                json={"name": f"{location}-{n}", "location": location},
                headers=key,
            )
            agent.raise_for_status()
            world.tokens.setdefault(location, []).append(agent.json()["token"])
            world.agent_ids.setdefault(location, []).append(agent.json()["id"])
    target = f"127.0.0.1:{target_port}"
    add_probes(base, key, target, probes, interval_s, black_hole_every, black_hole, policy)
    return world


def add_probes(
    base: str,
    key: dict[str, str],
    target: str,
    probes: int,
    interval_s: int,
    black_hole_every: int,
    black_hole: str,
    policy: dict[str, Any] | None = None,
) -> None:
    """``probes`` TCP probes at both locations, at ``target`` but every
    ``black_hole_every``-th at ``black_hole``."""
    with httpx.Client(base_url=base, headers=key, timeout=30) as client:
        for n in range(probes):
            probe = {
                "name": f"tcp {n}",
                "kind": "tcp",
                "target": black_hole if n % black_hole_every == 0 else target,
                "interval_s": interval_s,
                "timeout_s": 2,
                "locations": list(LOCATIONS),
                "policy": policy or {"quorum": 2},
            }
            client.post("/v1/probes", json=probe).raise_for_status()


def agent(
    world: World,
    location: str,
    n: int,
    ports: tuple[int, int],
    environ: dict[str, str],
    tmp: Path,
    prefix: Sequence[str] = (),
) -> subprocess.Popen[bytes]:
    """Start the location's ``n``-th agent, talking to API ``n``, with its own spool
    (``prefix``: a command it runs under, such as ``faketime -f +30s``)."""
    spool = tmp / f"spool-{location}-{n}"
    command = ["agent", "--api", f"http://127.0.0.1:{ports[n]}", "--location", location]
    command += ["--no-calls", "--spool", str(spool)]
    token = {"CALLPROBE_AGENT_TOKEN": world.tokens[location][n]}
    return _callprobe(*command, environ={**environ, **token}, prefix=prefix)


def agents(
    world: World, ports: tuple[int, int], environ: dict[str, str], tmp: Path
) -> list[subprocess.Popen[bytes]]:
    """Per location one agent on each API: [ams on API 1, ams on API 2, fra on 1, fra on 2]."""
    return [agent(world, loc, n, ports, environ, tmp) for loc in LOCATIONS for n in range(2)]


def wait_until_holding(
    url: str, agent_id: str, timeout: float = 30, target: str = BLACK_HOLE
) -> None:
    """Wait until the agent holds an unfinished lease of ``target`` (a black hole's lasts
    the timeout)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            held = conn.execute(
                "SELECT count(*) FROM runs WHERE leased_by = %s AND completed_at IS NULL"
                " AND lease_expires > now() AND target = %s",
                (agent_id, target),
            ).fetchone()
            if held and held[0]:
                return
            time.sleep(0.02)
    raise AssertionError(f"agent {agent_id} never held a lease within {timeout} s")


@dataclass(frozen=True)
class Findings:
    """What the database says about a run of the platform."""

    runs: int
    completed: int
    open_runs: int
    completed_without_one_result: int
    open_with_result: int
    bad_gaps: list[float]
    reissued_completed: int
    lag_p50_ms: float
    lag_p99_ms: float


def findings(url: str, project: str, interval_s: int, settle_s: float = 10) -> Findings:
    """Count runs, results per run, slot gaps, re-issues and scheduling lag (of runs due
    ``settle_s`` after the first: the agents' start-up is not scheduling lag)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT r.probe_id, r.location_id, r.target, r.due_at, r.leased_at, r.attempts,"
            " r.completed_at, (SELECT count(*) FROM call_results c WHERE c.run_id = r.run_id)"
            " FROM runs r WHERE r.project_id = %s"
            " ORDER BY r.probe_id, r.location_id, r.target, r.due_at",
            (project,),
        ).fetchall()
    completed = [r for r in rows if r[6] is not None]
    per_slot: dict[tuple[Any, ...], list[Any]] = {}
    for r in rows:
        per_slot.setdefault((r[0], r[1], r[2]), []).append(r[3])
    gaps = [
        (b - a).total_seconds()
        for dues in per_slot.values()
        for a, b in itertools.pairwise(dues)
        if (b - a).total_seconds() != interval_s
    ]
    # Lag of first leases only: a re-issued run's leased_at is its re-issue.
    settled = min((r[3] for r in rows), default=None)
    lags = sorted(
        (r[4] - r[3]).total_seconds() * 1000
        for r in rows
        if r[5] == 1 and settled is not None and (r[3] - settled).total_seconds() > settle_s
    )
    return Findings(
        runs=len(rows),
        completed=len(completed),
        open_runs=len(rows) - len(completed),
        completed_without_one_result=sum(1 for r in completed if r[7] != 1),
        open_with_result=sum(1 for r in rows if r[6] is None and r[7] != 0),
        bad_gaps=gaps,
        reissued_completed=sum(1 for r in completed if r[5] > 1),
        lag_p50_ms=statistics.median(lags) if lags else 0.0,
        lag_p99_ms=lags[int(0.99 * (len(lags) - 1))] if lags else 0.0,
    )
