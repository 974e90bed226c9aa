"""Prometheus /metrics: a read key sees its project's probe gauges, the admin token the
service's own metrics."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from tests.integration.api.conftest import ADMIN_TOKEN, Tenant, create, new_tenant, unique

pytestmark = pytest.mark.db


def _healthy_push_probe(client: TestClient, tenant: Tenant, name: str) -> str:
    headers = tenant.headers
    body = {"name": name, "kind": "push", "target": ""}
    tenant_probe = create(client, tenant, "/v1/probes", body)
    assert client.post(f"/v1/push/{tenant_probe['push_token']}").status_code == 202
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        rows = client.get(f"/v1/probes/{tenant_probe['id']}/health", headers=headers).json()
        if {row["location"]: row["state"] for row in rows}.get("") == "healthy":
            return str(tenant_probe["id"])
        time.sleep(0.1)
    raise AssertionError("the push probe never became healthy")


def test_metrics_scope_probe_gauges_to_the_key_and_show_the_pool_to_the_admin(
    client: TestClient,
) -> None:
    mine, theirs = new_tenant(client), new_tenant(client)
    my_name, their_name = unique("mine"), unique("theirs")
    probe_id = _healthy_push_probe(client, mine, my_name)
    _healthy_push_probe(client, theirs, their_name)
    assert client.get("/metrics").status_code == 401
    scraped = client.get("/metrics", headers=mine.headers)
    assert scraped.status_code == 200
    text = scraped.text
    labels = f'kind="push",probe="{my_name}",probe_id="{probe_id}"'
    assert f"callprobe_probe_state{{{labels}}} 0.0" in text
    assert their_name not in text
    service = client.get("/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).text
    for family in ("callprobe_db_pool_size", "callprobe_db_requests_wait_seconds_total"):
        assert f"\n{family} " in service
    assert "callprobe_results_ingested_total" in service
