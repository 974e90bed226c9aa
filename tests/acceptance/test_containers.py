"""The compose topology under podman, from the locally built images (docker/).

Builds the images when missing (docker/build-local.sh, minutes), starts TimescaleDB,
two API replicas, a page process, the proxy and two agents (docker/up-local.sh), then:
/readyz answers through the proxy, both agents lease and post TCP-probe results, an API
container killed with SIGKILL leaves the proxy answering every request and the
agents posting, and every completed run has exactly one result; the public pages come
from the page process alone. Each container's health check passes (run once by hand:
without systemd podman runs none on a timer). Tears it all down.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from bench import compose_harness as compose

pytestmark = [pytest.mark.containers, pytest.mark.timeout(1500)]

INTERVAL_S = 5
LONG_RUNNING = ("db", "api-1", "api-2", "pages-1", "proxy", "agent-ams", "agent-fra")


@pytest.fixture(scope="module")
def topology() -> Iterator[None]:
    compose.down()
    compose.up()
    try:
        yield
    finally:
        compose.down()


def _results_per_location(probe_id: str) -> dict[str, int]:
    with psycopg.connect(compose.db_url()) as conn:
        rows = conn.execute(
            "SELECT l.name, count(c.run_id) FROM runs r JOIN locations l ON l.id = r.location_id"
            " JOIN call_results c ON c.run_id = r.run_id WHERE r.probe_id = %s GROUP BY l.name",
            (probe_id,),
        ).fetchall()
    return {name: count for name, count in rows}


def _wait_for_results(probe_id: str, at_least: dict[str, int], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _results_per_location(probe_id)
        if all(found.get(loc, 0) >= n for loc, n in at_least.items()):
            return
        time.sleep(1)
    raise AssertionError(f"results {_results_per_location(probe_id)}, wanted {at_least}")


def _create_probe() -> str:
    key = {"Authorization": f"Bearer {compose.secret('project_key')}"}
    probe = {
        "name": "proxy port",
        "kind": "tcp",
        "target": "proxy:8080",
        "interval_s": INTERVAL_S,
        "timeout_s": 2,
        "locations": ["ams", "fra"],
    }
    created = httpx.post(f"{compose.API}/v1/probes", json=probe, headers=key, timeout=10)
    assert created.status_code == 201, created.text
    probe_id: str = created.json()["id"]
    return probe_id


def _proxy_answers_while(seconds: float) -> tuple[int, int, float]:
    """GET /readyz through the proxy for ``seconds``: (requests, failures, slowest s)."""
    requests = failures = 0
    slowest = 0.0
    deadline = time.monotonic() + seconds
    with httpx.Client(timeout=10) as client:
        while time.monotonic() < deadline:
            start = time.monotonic()
            try:
                ok = client.get(f"{compose.API}/readyz").status_code == 200
            except httpx.HTTPError:
                ok = False
            slowest = max(slowest, time.monotonic() - start)
            requests += 1
            failures += not ok
            time.sleep(0.1)
    return requests, failures, slowest


def _runs_without_exactly_one_result(probe_id: str) -> int:
    with psycopg.connect(compose.db_url()) as conn:
        row = conn.execute(
            "SELECT count(*) FROM runs r WHERE r.probe_id = %s AND r.completed_at IS NOT NULL"
            " AND (SELECT count(*) FROM call_results c WHERE c.run_id = r.run_id) <> 1",
            (probe_id,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_compose_topology_survives_a_killed_api_replica(topology: None) -> None:
    compose.wait_ready()
    probe_id = _create_probe()
    _wait_for_results(probe_id, {"ams": 2, "fra": 2})
    unhealthy = [s for s in LONG_RUNNING if not compose.healthy(s)]
    assert not unhealthy, {s: compose.script("logs", s)[-1500:] for s in unhealthy}

    before = _results_per_location(probe_id)
    compose.act("kill", "api-1")
    requests, failures, slowest = _proxy_answers_while(20)
    print(
        f"after kill -9 of api-1: {requests} requests, {failures} failed, slowest {slowest:.2f} s"
    )
    assert failures == 0
    _wait_for_results(probe_id, {loc: n + 2 for loc, n in before.items()})

    if compose.state("api-1") != "running":
        compose.act("start", "api-1")
    compose.wait_ready()
    assert _runs_without_exactly_one_result(probe_id) == 0


def test_compose_serves_the_public_pages_from_the_page_process(topology: None) -> None:
    compose.wait_ready()
    key = {"Authorization": f"Bearer {compose.secret('project_key')}"}
    slug = f"compose-{time.time_ns()}"
    with httpx.Client(base_url=compose.API, headers=key, timeout=15) as client:
        client.post("/v1/pages", json={"name": "Compose", "slug": slug}).raise_for_status()
        assert client.get(f"/s/{slug}").status_code == 200
        compose.act("stop", "pages-1")
        try:
            # The APIs could render it, but the proxy sends pages to the page process only.
            gone = client.get(f"/s/{slug}")
            assert (gone.status_code, gone.headers.get("retry-after")) == (503, "5")
            assert client.get("/v1/project").status_code == 200
        finally:
            compose.act("start", "pages-1")
        deadline = time.monotonic() + 60
        while client.get(f"/s/{slug}").status_code != 200:
            assert time.monotonic() < deadline, "the page process did not come back"
            time.sleep(1)
