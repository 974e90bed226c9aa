"""Fixtures for API tests: one app (TestClient, lifespan run) on the session's test cluster.

Tests cannot share a rolled-back transaction with the app, so each creates its own
project (unique names) and touches only that project's rows.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.conftest import Cluster

ADMIN_TOKEN = "admin-" + secrets.token_urlsafe(16)


@dataclass(frozen=True)
class Tenant:
    """A project created through the API, with its first write key."""

    project_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def unique(prefix: str) -> str:
    """A name no other test uses (location-name safe)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def api_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("api-data")


@pytest.fixture(scope="session")
def api_settings(db: Cluster, api_data_dir: Path) -> Settings:
    # Tests share one client address: the per-client limits are raised here and checked
    # on their own (test_api_pages.py, test_api_hardening_edge.py). Notification targets
    # are loopback receivers, allow-listed as an operator would (test_api_channels.py
    # checks a loopback target is refused without it). The session's app does not
    # dispatch, so it never takes the deliveries other tests send through dispatchers of
    # their own; `dispatching_client` runs an app that does, for one test.
    return Settings(
        database_url=db.url,
        admin_token=ADMIN_TOKEN,
        data_dir=api_data_dir,
        public_rate="1000/second",
        auth_fail_rate="1000/second",
        notify_allow_networks=[ip_network("127.0.0.0/8")],
        notify_dispatch=False,
    )


@pytest.fixture(scope="session")
def client(api_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings)) as test_client:
        yield test_client


@pytest.fixture
def dispatching_client(api_settings: Settings) -> Iterator[TestClient]:
    """An app whose notification loop runs (only while the test does)."""
    settings = api_settings.model_copy(update={"notify_dispatch": True})
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def new_tenant(client: TestClient) -> Tenant:
    """A fresh project through the admin route."""
    response = client.post(
        "/v1/projects",
        json={"name": unique("project")},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Tenant(project_id=body["project"]["id"], token=body["key"]["token"])


@pytest.fixture
def tenant(client: TestClient) -> Tenant:
    return new_tenant(client)


def create(client: TestClient, tenant: Tenant, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST a body that must be accepted; the created object."""
    response = client.post(path, json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is an error of the documented shape; its ``error`` object."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error
