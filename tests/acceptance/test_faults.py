"""Faults the platform must survive (issue 13), each a bounded run of real processes:
``callprobe serve`` and ``callprobe agent --no-calls`` (TCP probes every 5 s against a
local listener and a local black hole), checked against the database by run id.

(a) an API killed with SIGKILL while agents post; (b) PostgreSQL restarted under load;
(c) agents cut off from the API for longer than their leases; (d) agents with clocks
30 s fast and 30 s slow: local processes, each agent talking to one API
(``bench/fault_topology.py``'s ``Processes``). (e) the proxy restarted while agents post
through it: ``callprobe cluster``'s members (``bench/fault_cluster.py``).

(a) runs in every test run; (b)-(e), 35-50 s each, are marked ``slow`` to keep the suite
near 15 minutes: ``pytest -m slow tests/acceptance/test_faults.py`` runs them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from api.cli.cluster_plan import ClusterSpec
from bench import platform_harness as harness
from bench.fault_checks import FaultFindings, fault_findings, holding, wait_for, watching
from bench.fault_cluster import ClusterTopology, planned
from bench.fault_topology import Processes, Topology
from store import cluster
from tests.conftest import Cluster, start_migrated

pytestmark = pytest.mark.db

INTERVAL_S = 5
PROBES = 8
PG_PORT = 25500
SETTLED = timedelta(seconds=15)
"""Runs due this long before the agents stopped must be complete."""


@pytest.fixture
def targets() -> Iterator[tuple[int, str]]:
    """A TCP port that accepts, and a black hole where connects hang until the timeout."""
    with harness.listening() as port, harness.black_hole() as hole:
        yield port, hole


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    """A cluster of this module's own, to restart."""
    root = cluster.default_root("pg-faults")
    url = start_migrated(root, PG_PORT)
    yield Cluster(root=root, port=PG_PORT, url=url)
    cluster.stop(root)


def _platform(
    db: Cluster, tmp: Path, api_ports: tuple[int, int], targets: tuple[int, str]
) -> Processes:
    return Processes(db.root, db.port, harness.env(db.url, tmp), tmp, api_ports, targets)


def _world(topology: Topology, policy: dict[str, Any] | None = None) -> harness.World:
    """Both APIs up, and the project with its probes (every fourth at the black hole)."""
    topology.start()
    return topology.setup(PROBES, INTERVAL_S, black_hole_every=4, policy=policy)


def _stop(topology: Topology) -> datetime:
    stopped = datetime.now(UTC)
    topology.stop()
    return stopped


def _findings(db: Cluster, world: harness.World, stopped: datetime) -> FaultFindings:
    found = fault_findings(db.url, world.project, stopped - SETTLED)
    print(found)
    return found


def _assert_nothing_lost_or_doubled(found: FaultFindings, at_least: int) -> None:
    assert found.completed >= at_least, found
    assert found.lost == 0, "every due run completed with exactly one result"
    assert found.duplicated == 0 and found.open_with_result == 0
    assert found.rollup_mismatches == 0, "the hourly rollup counts the stored results"
    assert found.started_after_receipt == 0


def _none_refused(tmp: Path) -> bool:
    """No agent had a result refused for good (set aside in its spool's rejected/)."""
    return not list(tmp.glob("spool-*/rejected/*"))


def _sql(db: Cluster, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(db.url, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def test_an_api_killed_while_agents_post_loses_and_doubles_nothing(
    db: Cluster, tmp_path: Path, targets: tuple[int, str]
) -> None:
    topology = _platform(db, tmp_path, (18500, 18501), targets)
    try:
        world = _world(topology)
        for location in harness.LOCATIONS:
            for n in (0, 1):
                topology.start_agent(world, location, n)
        time.sleep(10)
        topology.kill_api(0)  # two of the four agents post to it
        time.sleep(5)
        topology.start_api(0)
        time.sleep(12)
    finally:
        stopped = _stop(topology)
    found = _findings(db, world, stopped)
    _assert_nothing_lost_or_doubled(found, at_least=PROBES * 2 * 4)
    assert _none_refused(tmp_path)


@pytest.mark.slow
def test_a_database_restart_answers_503_then_recovers_without_losing_results(
    own_cluster: Cluster, tmp_path: Path, targets: tuple[int, str]
) -> None:
    topology = _platform(own_cluster, tmp_path, (18502, 18503), targets)
    try:
        world = _world(topology)
        for location in harness.LOCATIONS:
            for n in (0, 1):
                topology.start_agent(world, location, n)
        time.sleep(8)
        base = f"http://127.0.0.1:{topology.api_ports[1]}"
        with watching(base, world.tokens["ams"][0], world.key) as watch:
            # An agent is running a check when the database goes: its result must wait.
            harness.wait_until_holding(
                own_cluster.url, world.agent_ids["fra"][0], target=targets[1]
            )
            topology.stop_database()
            time.sleep(10)
            topology.start_database()
            # The same API processes recover by themselves.
            wait_for(lambda: httpx.get(f"{base}/v1/probes", headers=world.key).status_code == 200,
                     "the API answering again", timeout=30)  # fmt: skip
        time.sleep(8)
        assert all(proc.poll() is None for proc in topology.apis.values())
    finally:
        stopped = _stop(topology)
    found = _findings(own_cluster, world, stopped)
    print(dict(watch.statuses))
    assert watch.unavailable("agent") > 0 and watch.unavailable("admin") > 0
    _assert_nothing_lost_or_doubled(found, at_least=PROBES * 2 * 4)
    assert found.late > 0, "results spooled during the outage were replayed"


@pytest.mark.slow
def test_agents_cut_off_past_their_leases_are_reissued_and_accepted_late(
    db: Cluster, tmp_path: Path, targets: tuple[int, str]
) -> None:
    topology = _platform(db, tmp_path, (18504, 18505), targets)
    try:
        world = _world(topology)
        # ams: one agent behind a relay, one direct; fra: its only agent behind a relay.
        topology.start_agent(world, "ams", 0, cuttable=True)
        topology.start_agent(world, "ams", 1)
        topology.start_agent(world, "fra", 0, cuttable=True)
        time.sleep(6)
        # Each is cut while it runs a check (its result must wait in the spool).
        cut_off = world.agent_ids["ams"][0]
        harness.wait_until_holding(db.url, cut_off, target=targets[1])
        topology.cut("ams", 0)
        harness.wait_until_holding(db.url, world.agent_ids["fra"][0], target=targets[1])
        topology.cut("fra", 0)
        time.sleep(15)  # leases last 4 s
        topology.restore("ams", 0)
        topology.restore("fra", 0)
        time.sleep(15)
    finally:
        stopped = _stop(topology)
    found = _findings(db, world, stopped)
    _assert_nothing_lost_or_doubled(found, at_least=PROBES * 2 * 4)
    [(moved,)] = _sql(
        db,
        "SELECT count(*) FROM runs WHERE %s = ANY(earlier_holders) AND leased_by = %s",
        cut_off,
        world.agent_ids["ams"][1],
    )
    assert moved > 0, "the cut-off agent's leases went to the other agent of ams"
    assert _none_refused(tmp_path)
    assert found.late > 0, "spooled results were accepted late"


@pytest.mark.slow
def test_agents_with_clocks_30_s_off_lose_nothing_and_stay_healthy(
    db: Cluster, tmp_path: Path, targets: tuple[int, str]
) -> None:
    topology = _platform(db, tmp_path, (18506, 18507), targets)
    # Stale after 20 s: a result dated 30 s back would make its location unknown.
    policy = {"quorum": 2, "stale_after_s": 20}
    try:
        world = _world(topology, policy)
        for n in (0, 1):
            topology.start_agent(world, "ams", n, skew="+30s")
            topology.start_agent(world, "fra", n, skew="-30s")
        time.sleep(30)
    finally:
        stopped = _stop(topology)
    found = _findings(db, world, stopped)
    _assert_nothing_lost_or_doubled(found, at_least=PROBES * 2 * 4)
    assert _none_refused(tmp_path)
    [(before_lease,)] = _sql(
        db,
        "SELECT count(*) FROM call_results c JOIN runs r USING (run_id)"
        " WHERE r.project_id = %s AND c.started_at < r.first_leased_at",
        world.project,
    )
    assert before_lease == 0, "every start lies between the first lease and the receipt"
    states = _sql(
        db,
        "SELECT h.location, h.state, count(*) FROM probe_health h"
        " JOIN probes p ON p.id = h.probe_id"
        " WHERE p.project_id = %s AND p.target <> %s GROUP BY 1, 2",
        world.project,
        targets[1],
    )
    assert {(location, state) for location, state, _ in states} == {
        ("", "healthy"), ("ams", "healthy"), ("fra", "healthy")
    }  # fmt: skip


def _cluster(db: Cluster, tmp: Path, targets: tuple[int, str]) -> ClusterTopology:
    """``callprobe cluster``'s members on the test database: 2 APIs, the proxy, agents
    through the proxy."""
    spec = ClusterSpec(
        apis=2,
        agents={location: 2 for location in harness.LOCATIONS},
        calls=False,
        api_port=18522,
        http_port=18532,
        https_port=18533,
    )
    database = (db.root, db.port, db.url)
    return planned(tmp / "cluster", spec, harness.env(db.url, tmp), database, targets)


def _agent_stats(topology: ClusterTopology, field: str) -> int:
    """A counter the agents logged when they stopped (``AgentStats(spooled=N, ...)``)."""
    logs = (topology.members.root / "logs").glob("agent-*.log")
    text = " ".join(log.read_text().replace("\n", " ") for log in logs)
    return sum(int(n) for n in re.findall(rf"\b{field}=(\d+)", text))


@pytest.mark.slow
def test_a_proxy_restarted_while_agents_post_through_it_loses_nothing(
    db: Cluster, tmp_path: Path, targets: tuple[int, str]
) -> None:
    topology = _cluster(db, tmp_path, targets)
    try:
        world = _world(topology)
        for location in harness.LOCATIONS:
            for n in (0, 1):
                topology.start_agent(world, location, n)
        time.sleep(6)
        # An agent is running a check when the proxy goes: its result must wait.
        assert holding(db.url, world.agent_ids["ams"][0])
        started = time.monotonic()
        assert topology.stop_proxy()
        stopped_in = time.monotonic() - started
        time.sleep(12)
        started = time.monotonic()
        topology.start_proxy()
        print(f"proxy stopped in {stopped_in:.2f} s, back in {time.monotonic() - started:.2f} s")
        time.sleep(10)
    finally:
        stopped = _stop(topology)
    found = _findings(db, world, stopped)
    _assert_nothing_lost_or_doubled(found, at_least=PROBES * 2 * 4)
    spooled, replayed = _agent_stats(topology, "spooled"), _agent_stats(topology, "replayed")
    print(f"agents spooled {spooled} results while the proxy was down, replayed {replayed}")
    assert spooled > 0 and replayed == spooled
    assert found.late > 0, "results spooled while the proxy was down were accepted late"
    assert not list((topology.members.root / "spool").glob("*/rejected/*"))
