"""Run now (``POST /v1/probes/{id}/run``): every location's next lease takes the probe at
once, whatever its schedule said; refused (409) when nothing could run it; audited."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.conftest import Cluster
from tests.integration.api.conftest import Tenant, assert_error, create, unique

pytestmark = pytest.mark.db


def _later(db: Cluster, probe_id: str) -> None:
    """Push the probe's schedule an hour out, so only Run now can make it due."""
    with psycopg.connect(db.url, autocommit=True) as conn:
        query = "UPDATE schedules SET next_due = now() + interval '1 hour' WHERE probe_id = %s"
        conn.execute(query, (probe_id,))


def _lease(client: TestClient, agent: dict[str, Any]) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {agent['token']}"}
    body = {"location": agent["location"], "max_runs": 5}
    response = client.post("/v1/agent/lease", json=body, headers=headers)
    assert response.status_code == 200, response.text
    runs: list[dict[str, Any]] = response.json()["runs"]
    return runs


def _world(client: TestClient, tenant: Tenant) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    places = [create(client, tenant, "/v1/locations", {"name": unique("loc")})["name"]
              for _ in range(2)]  # fmt: skip
    agents = [create(client, tenant, "/v1/agents", {"name": "a", "location": p}) for p in places]
    body = {"name": "trunk", "kind": "tcp", "target": "127.0.0.1:9", "interval_s": 3600}
    probe = create(client, tenant, "/v1/probes", {**body, "locations": places})
    return agents, probe


def test_run_now_is_leased_at_every_location_at_once(
    client: TestClient, tenant: Tenant, db: Cluster
) -> None:
    agents, probe = _world(client, tenant)
    _later(db, probe["id"])
    assert [_lease(client, agent) for agent in agents] == [[], []]
    response = client.post(f"/v1/probes/{probe['id']}/run", headers=tenant.headers)
    assert response.status_code == 202, response.text
    assert response.json() == {"probe_id": probe["id"], "locations": 2}
    for agent in agents:
        [run] = _lease(client, agent)
        assert (run["probe_id"], run["target"]) == (probe["id"], "127.0.0.1:9")
        assert _lease(client, agent) == []  # one run, then the interval again
    with psycopg.connect(db.url) as conn:
        row = conn.execute(
            "SELECT via, after FROM audit_log WHERE target_id = %s AND action = 'run'",
            (probe["id"],),
        ).fetchone()
    assert row == ("api", {"locations": 2})


@pytest.mark.parametrize(
    ("change", "why"),
    [({"enabled": False}, "disabled"), ({"locations": []}, "no location")],
)
def test_run_now_is_refused_when_nothing_would_run_it(
    client: TestClient, tenant: Tenant, change: dict[str, Any], why: str
) -> None:
    _, probe = _world(client, tenant)
    patched = client.patch(f"/v1/probes/{probe['id']}", json=change, headers=tenant.headers)
    assert patched.status_code == 200, patched.text
    response = client.post(f"/v1/probes/{probe['id']}/run", headers=tenant.headers)
    assert why in assert_error(response, 409, "conflict")["message"]


def test_run_now_of_a_push_probe_is_refused(client: TestClient, tenant: Tenant) -> None:
    probe = create(client, tenant, "/v1/probes", {"name": "app", "kind": "push"})
    response = client.post(f"/v1/probes/{probe['id']}/run", headers=tenant.headers)
    assert "push" in assert_error(response, 409, "conflict")["message"]
