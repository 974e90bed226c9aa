"""The support-site warning's public JSON and script through the API on the test cluster.

Health history is written straight into the tables the evaluator writes, so the page
is down since a moment the test chose.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.health_history import store_history
from tests.integration.api.conftest import Tenant, assert_error, create, unique

pytestmark = pytest.mark.db

TARGET = "sip:secret-target@10.9.8.7:5060"


def _world(client: TestClient, tenant: Tenant, **page: Any) -> tuple[dict[str, Any], list[str]]:
    """A page of two components (trunk, backup) over probes that target ``TARGET``."""
    probes = [
        create(client, tenant, "/v1/probes", {
            "name": unique(name), "kind": "sip_call", "target": TARGET,
        })["id"]
        for name in ("trunk", "backup")
    ]  # fmt: skip
    components = [
        {"probe_id": probes[0], "name": "Primary SIP Trunk"},
        {"probe_id": probes[1], "name": "Backup Trunk"},
    ]
    body = {"name": "Acme Voice", "slug": unique("acme"), "components": components, **page}
    return create(client, tenant, "/v1/pages", body), probes


def _down(settings: Settings, tenant: Tenant, probe: str, ago: timedelta) -> None:
    assert settings.database_url
    now = datetime.now(UTC)
    reason = {"state": "unhealthy", "rule": "outcome", "location": "secret-location"}
    store_history(settings.database_url, tenant.project_id, probe, [
        (now - timedelta(days=1), "healthy", []),
        (now - ago, "unhealthy", [reason]),
    ])  # fmt: skip


def test_warning_shows_once_the_page_has_been_down_for_n_minutes(
    client: TestClient, tenant: Tenant, api_settings: Settings
) -> None:
    page, probes = _world(client, tenant, primary_color="#aa1100")
    _down(api_settings, tenant, probes[0], timedelta(minutes=4))
    url = f"/s/{page['slug']}/api/warning.json"

    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"
    assert "x-frame-options" not in response.headers
    body = response.json()
    assert body["page"] == {"name": "Acme Voice", "url": page["urls"]["page"], "color": "#aa1100"}
    assert (body["state"], body["text"]) == ("unhealthy", "Major Issues Detected")
    assert (body["down"], body["show"], body["after_minutes"]) == (True, True, 3)
    assert body["affected"] == ["Primary SIP Trunk"]
    since = datetime.fromisoformat(body["down_since"])
    assert timedelta(minutes=4) <= datetime.now(UTC) - since < timedelta(minutes=5)
    for secret in (
        "secret-target",
        "10.9.8.7",
        "secret-location",
        *probes,
        page["id"],
        tenant.project_id,
    ):
        assert secret not in response.text, secret

    later = client.get(url, params={"after_minutes": 5}).json()
    assert (later["down"], later["show"], later["after_minutes"]) == (True, False, 5)
    assert client.get(url, params={"after_minutes": 0}).json()["show"] is True
    assert client.get(url, params={"after_minutes": 1440}).json()["show"] is False


def test_a_healthy_or_degraded_page_shows_nothing(
    client: TestClient, tenant: Tenant, api_settings: Settings
) -> None:
    page, probes = _world(client, tenant)
    assert api_settings.database_url
    now = datetime.now(UTC)
    store_history(api_settings.database_url, tenant.project_id, probes[0], [
        (now - timedelta(hours=2), "degraded", []),
    ])  # fmt: skip
    store_history(api_settings.database_url, tenant.project_id, probes[1], [
        (now - timedelta(hours=2), "healthy", []),
    ])  # fmt: skip
    body = client.get(f"/s/{page['slug']}/api/warning.json?after_minutes=0").json()
    assert (body["state"], body["down"], body["show"]) == ("degraded", False, False)
    assert body["down_since"] is None and body["affected"] == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "greater than or equal to 0"),
        ("abc", "a valid integer"),
        ("1441", "less than or equal to 1440"),
        ("2.5", "a valid integer"),
        ("", "a valid integer"),
    ],
)
def test_bad_minutes_are_refused_with_a_clear_message(
    client: TestClient, tenant: Tenant, value: str, message: str
) -> None:
    page, _ = _world(client, tenant)
    response = client.get(f"/s/{page['slug']}/api/warning.json?after_minutes={value}")
    error = assert_error(response, 422, "invalid")
    assert error["message"].startswith(f"query.after_minutes: Input should be {message}")
    assert error["details"][0]["loc"] == ["query", "after_minutes"]


def test_unknown_page_is_404(client: TestClient) -> None:
    assert_error(client.get("/s/no-such-page/api/warning.json"), 404, "not_found")


def test_repeats_come_from_memory_per_minutes_value(
    client: TestClient, tenant: Tenant, api_settings: Settings
) -> None:
    page, probes = _world(client, tenant)
    _down(api_settings, tenant, probes[1], timedelta(minutes=10))
    url = f"/s/{page['slug']}/api/warning.json"
    first, second = client.get(url), client.get(url)  # the second from PublicFastPath
    assert second.content == first.content and second.headers["etag"] == first.headers["etag"]
    assert second.headers["access-control-allow-origin"] == "*"
    assert client.get(url, params={"after_minutes": 30}).json()["show"] is False
    assert client.get(url).json()["show"] is True


def test_uncached_warnings_count_against_the_public_limit(
    api_settings: Settings, tenant: Tenant, client: TestClient
) -> None:
    page, _ = _world(client, tenant)
    limited = api_settings.model_copy(update={"public_rate": "2/minute"})
    with TestClient(create_app(limited)) as strict:
        assert strict.get(f"/s/{page['slug']}/api/warning.json").status_code == 200
        assert strict.get(f"/s/{page['slug']}/api/warning.json").status_code == 200  # cached
        assert_error(strict.get("/s/missing-a/api/warning.json"), 404, "not_found")
        assert_error(strict.get("/s/missing-b/api/warning.json"), 429, "too_many_requests")


def test_management_lists_the_warning_urls_and_the_script_is_served(
    client: TestClient, tenant: Tenant
) -> None:
    page, _ = _world(client, tenant)
    urls = page["urls"]
    assert urls["warning_json"] == f"{urls['page']}/api/warning.json"
    assert urls["warning_script"].split("?v=")[0].endswith("/static/warning.js")
    assert page["warning_snippet"] == (
        f'<script src="{urls["warning_script"]}" data-page="{urls["page"]}"'
        ' data-after-minutes="3" async></script>'
    )
    path = urls["warning_script"].split("/", 3)[3]
    script = client.get(f"/{path}")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "textContent" in script.text and "innerHTML" not in script.text
    assert "eval(" not in script.text
    unversioned = client.get("/static/warning.js")
    assert unversioned.headers["cache-control"] == "public, max-age=3600"
