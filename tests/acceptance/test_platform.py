"""The platform end to end: two API processes, four agents in two locations, real TimescaleDB.

A shortened form of the issue's 10-minute run (``bench/platform_run.py``): TCP
probes every 5 s against a local listener and a black hole, one agent killed
while it holds a lease, one API stopped and restarted. Checked against the
database: no run executed twice, no slot skipped, re-issued leases, nothing lost.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench import platform_harness as harness
from tests.conftest import Cluster

pytestmark = pytest.mark.db

API_PORTS = (18181, 18182)
INTERVAL_S = 5
PROBES = 12


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP port that accepts connections (the probes' target)."""
    with harness.listening() as port:
        yield port


def test_agents_and_apis_share_the_schedule_without_loss_or_double_runs(
    db: Cluster, tmp_path: Path, listener: int
) -> None:
    environ = harness.env(db.url, tmp_path)
    apis = [harness.serve(port, environ) for port in API_PORTS]
    agents: list[Any] = []
    try:
        base = f"http://127.0.0.1:{API_PORTS[0]}"
        world = harness.setup(base, listener, PROBES, INTERVAL_S, black_hole_every=3)
        agents = harness.agents(world, API_PORTS, environ, tmp_path)
        time.sleep(15)
        # ams's agent on API 2 dies mid-run (its leases must be re-issued to the one on
        # API 1); then API 2 stops, and fra's agent on it spools until it is back.
        harness.wait_until_holding(db.url, world.agent_ids["ams"][1])
        harness.stop(agents[1], signal.SIGKILL)
        harness.stop(apis[1])
        time.sleep(12)
        apis[1] = harness.serve(API_PORTS[1], environ)
        time.sleep(15)
    finally:
        for proc in agents:
            harness.stop(proc)
        for proc in apis:
            harness.stop(proc)
    found = harness.findings(db.url, world.project, INTERVAL_S)
    print(found)
    assert found.completed >= PROBES * 2 * 6
    assert found.completed_without_one_result == 0, "a completed run has exactly one result"
    assert found.open_with_result == 0, "an open run has no result"
    assert found.bad_gaps == [], "a slot was skipped or doubled"
    assert found.reissued_completed > 0, "the killed agent's lease was re-issued"
    assert found.lag_p99_ms < 2000
