"""Graceful agent shutdown: a real ``callprobe agent --no-calls`` under SIGTERM while it
holds a run that cannot finish (a TCP probe at a local black hole, 20 s timeout) hands it
back; another agent of the location leases it at once; what it finished is stored."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from bench import platform_harness as harness
from tests.conftest import Cluster

pytestmark = pytest.mark.db

API_PORT = 18491


@pytest.fixture
def api(db: Cluster, tmp_path: Path) -> Iterator[dict[str, str]]:
    environ = harness.env(db.url, tmp_path)
    proc = harness.serve(API_PORT, environ)
    yield environ
    harness.stop(proc)


def _setup(base: str, hole: str, target_port: int) -> tuple[str, list[dict[str, Any]]]:
    """A project with location ``ams``, two agents, a black-hole and a reachable probe, both
    due now."""
    admin = {"Authorization": f"Bearer {harness.ADMIN}"}
    created = httpx.post(f"{base}/v1/projects", json={"name": "shutdown"}, headers=admin)
    created.raise_for_status()
    key = {"Authorization": f"Bearer {created.json()['key']['token']}"}
    with httpx.Client(base_url=base, headers=key, timeout=10) as client:
        client.post("/v1/locations", json={"name": "ams"}).raise_for_status()
        agents = [
            client.post("/v1/agents", json={"name": f"ams-{n}", "location": "ams"}).json()
            for n in range(2)
        ]
        for name, target in (("hole", hole), ("up", f"127.0.0.1:{target_port}")):
            probe = {"name": name, "kind": "tcp", "target": target, "interval_s": 300}
            probe |= {"timeout_s": 20, "locations": ["ams"]}
            made = client.post("/v1/probes", json=probe)
            made.raise_for_status()
            client.post(f"/v1/probes/{made.json()['id']}/run").raise_for_status()
    return created.json()["project"]["id"], agents


def _agent(token: str, environ: dict[str, str], spool: Path) -> subprocess.Popen[bytes]:
    command = ["agent", "--api", f"http://127.0.0.1:{API_PORT}", "--location", "ams"]
    command += ["--no-calls", "--drain-timeout", "1", "--spool", str(spool)]
    return harness._callprobe(*command, environ={**environ, "CALLPROBE_AGENT_TOKEN": token})


def _runs(url: str, project: str) -> dict[str, tuple[Any, ...]]:
    """Per probe target: (leased_by, attempts, lease expired?, completed?, results)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT r.target, r.leased_by::text, r.attempts, r.lease_expires <= now(),"
            " r.completed_at IS NOT NULL,"
            " (SELECT count(*) FROM call_results c WHERE c.run_id = r.run_id)"
            " FROM runs r WHERE r.project_id = %s",
            (project,),
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def test_sigterm_hands_back_unfinished_runs_and_keeps_finished_ones(
    db: Cluster, api: dict[str, str], tmp_path: Path
) -> None:
    with harness.listening() as port, harness.black_hole() as hole:
        project, agents = _setup(f"http://127.0.0.1:{API_PORT}", hole, port)
        first = _agent(agents[0]["token"], api, tmp_path / "spool-0")
        second = None
        try:
            harness.wait_until_holding(db.url, agents[0]["id"], target=hole)
            first.send_signal(signal.SIGTERM)
            started = time.monotonic()
            assert first.wait(15) == 0
            stopped_s = time.monotonic() - started
            runs = _runs(db.url, project)
            held, up = runs[hole], runs[f"127.0.0.1:{port}"]
            assert held == (agents[0]["id"], 1, True, False, 0), "handed back, not completed"
            assert up[3:] == (True, 1), "the finished run's result was flushed"
            second = _agent(agents[1]["token"], api, tmp_path / "spool-1")
            started = time.monotonic()
            harness.wait_until_holding(db.url, agents[1]["id"], timeout=10, target=hole)
            taken_s = time.monotonic() - started
        finally:
            for proc in (first, second):
                if proc is not None:
                    harness.stop(proc)
    print(f"agent stopped in {stopped_s:.2f} s; the other agent took the run in {taken_s:.2f} s")
    assert stopped_s < 5
    assert _runs(db.url, project)[hole][:2] == (agents[1]["id"], 2)
