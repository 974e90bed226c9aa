"""Crisp's push mode through the API: reports drive health in the background, and a
token that reports too often is told to slow down."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.integration.api.conftest import create, new_tenant, unique

pytestmark = pytest.mark.db


@pytest.fixture
def strict_client(api_settings: Settings) -> Iterator[TestClient]:
    settings = api_settings.model_copy(update={"push_rate": "3/minute"})
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_a_push_report_makes_the_probe_healthy(client: TestClient) -> None:
    tenant = new_tenant(client)
    body = {"name": unique("app"), "kind": "push", "target": ""}
    probe = create(client, tenant, "/v1/probes", body)
    pushed = client.post(f"/v1/push/{probe['push_token']}", json={"cpu": 0.2, "ram": 0.4})
    assert pushed.status_code == 202
    deadline = time.monotonic() + 15
    state = None
    while time.monotonic() < deadline:
        health = client.get(f"/v1/probes/{probe['id']}/health", headers=tenant.headers)
        state = {row["location"]: row["state"] for row in health.json()}.get("")
        if state == "healthy":
            break
        time.sleep(0.1)
    assert state == "healthy"


def test_a_token_over_its_rate_gets_429_with_retry_after(strict_client: TestClient) -> None:
    tenant = new_tenant(strict_client)
    body = {"name": unique("app"), "kind": "push", "target": ""}
    probe = create(strict_client, tenant, "/v1/probes", body)
    other = create(strict_client, tenant, "/v1/probes", {**body, "name": unique("app")})
    for _ in range(3):
        assert strict_client.post(f"/v1/push/{probe['push_token']}").status_code == 202
    refused = strict_client.post(f"/v1/push/{probe['push_token']}")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "at most 3 per 1 minute" in refused.json()["error"]["message"]
    assert strict_client.post(f"/v1/push/{other['push_token']}").status_code == 202


def test_a_malformed_push_rate_is_refused_at_startup() -> None:
    with pytest.raises(ValueError, match="not a rate such as '60/minute'"):
        Settings(database_url="unused", push_rate="often")
