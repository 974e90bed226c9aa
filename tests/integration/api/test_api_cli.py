"""``callprobe project create``: a project and a working write key, printed once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli.main import app
from api.settings import get_settings
from tests.conftest import Cluster
from tests.integration.api.conftest import unique

pytestmark = pytest.mark.db


@pytest.fixture
def cli_env(db: Cluster, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CALLPROBE_DATABASE_URL", db.url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("cli_env")
def test_project_create_prints_a_working_key(client: TestClient) -> None:
    name = unique("cli")
    result = CliRunner().invoke(app, ["project", "create", name])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("cp_")
    project = client.get("/v1/project", headers={"Authorization": f"Bearer {token}"})
    assert project.status_code == 200 and project.json()["name"] == name
    location = client.post(
        "/v1/locations", json={"name": unique("loc")}, headers={"Authorization": f"Bearer {token}"}
    )
    assert location.status_code == 201
