"""Incident follow-up through the API: acknowledging (who and when, once), internal
notes (never on a public page), both audit-logged and scoped to the caller's project."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.settings import Settings
from tests.conftest import Run
from tests.incident_history import record_moves
from tests.integration.api.conftest import Tenant, assert_error, create, new_tenant, unique

pytestmark = pytest.mark.db


def _incident(run: Run[Any], client: TestClient, tenant: Tenant, url: str) -> tuple[str, str]:
    """(probe id, incident id) of an open incident on a new probe of the tenant."""
    probe = create(client, tenant, "/v1/probes", {
        "name": unique("trunk"), "kind": "sip_options", "target": "sip:t@127.0.0.1:5999",
        "enabled": False,
    })  # fmt: skip
    opened = datetime.now(UTC) - timedelta(minutes=30)
    incident = run(record_moves(url, tenant.project_id, probe["id"], [
        (opened, "degraded", "MOS fell to 3.8"),
    ]))  # fmt: skip
    return probe["id"], str(incident)


def _audit(url: str, project_id: str, action: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT actor, target_type FROM audit_log WHERE project_id = %s AND action = %s",
            (project_id, action),
        ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def test_acknowledge_names_the_key_and_happens_once(
    run: Run[Any], client: TestClient, tenant: Tenant, api_settings: Settings
) -> None:
    url = api_settings.resolved_database_url
    _, incident = _incident(run, client, tenant, url)
    key = client.get("/v1/keys", headers=tenant.headers).json()[0]
    first = client.post(f"/v1/incidents/{incident}/acknowledge", headers=tenant.headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["acknowledged_by"] == f"API key {key['name']} ({key['prefix']}…)"
    acked_at = datetime.fromisoformat(body["acknowledged_at"])
    assert abs(acked_at - datetime.now(UTC)) < timedelta(minutes=1)
    again = client.post(f"/v1/incidents/{incident}/acknowledge", headers=tenant.headers).json()
    assert (again["acknowledged_by"], again["acknowledged_at"]) == (
        body["acknowledged_by"], body["acknowledged_at"],
    )  # fmt: skip
    assert _audit(url, tenant.project_id, "acknowledge") == [(body["acknowledged_by"], "incident")]
    listed = client.get("/v1/incidents", headers=tenant.headers).json()
    assert [i["id"] for i in listed] == [incident]


def test_notes_are_kept_in_order_and_never_public(
    run: Run[Any], client: TestClient, tenant: Tenant, api_settings: Settings
) -> None:
    url = api_settings.resolved_database_url
    probe, incident = _incident(run, client, tenant, url)
    path = f"/v1/incidents/{incident}/notes"
    for text in ("carrier ticket 4711 opened", "  rerouted via backup trunk  "):
        made = client.post(path, json={"body": text}, headers=tenant.headers)
        assert made.status_code == 201, made.text
        assert made.json()["author"].startswith("API key ")
    notes = client.get(path, headers=tenant.headers).json()
    assert [n["body"] for n in notes] == ["carrier ticket 4711 opened", "rerouted via backup trunk"]
    assert len(_audit(url, tenant.project_id, "create")) >= 2
    assert_error(client.post(path, json={"body": "  "}, headers=tenant.headers), 422, "invalid")
    page = create(client, tenant, "/v1/pages", {
        "name": "Acme", "slug": unique("notes"), "components": [{"probe_id": probe, "name": "T"}],
    })  # fmt: skip
    for view in ("", "/api/v2/incidents.json", "/history.atom"):
        assert "4711" not in client.get(f"/s/{page['slug']}{view}").text, view


def test_a_read_key_cannot_acknowledge_or_write_notes(
    run: Run[Any], client: TestClient, tenant: Tenant, api_settings: Settings
) -> None:
    _, incident = _incident(run, client, tenant, api_settings.resolved_database_url)
    reader = create(client, tenant, "/v1/keys", {"name": "ro", "scope": "read"})
    headers = {"Authorization": f"Bearer {reader['token']}"}
    refused = client.post(f"/v1/incidents/{incident}/acknowledge", headers=headers)
    assert refused.status_code == 403
    assert client.post(f"/v1/incidents/{incident}/notes", json={"body": "x"},
                       headers=headers).status_code == 403  # fmt: skip
    assert client.get(f"/v1/incidents/{incident}/notes", headers=headers).json() == []


def test_another_projects_incident_is_not_found(
    run: Run[Any], client: TestClient, tenant: Tenant, api_settings: Settings
) -> None:
    _, incident = _incident(run, client, tenant, api_settings.resolved_database_url)
    other = new_tenant(client)
    for method, path, body in (
        ("POST", f"/v1/incidents/{incident}/acknowledge", None),
        ("GET", f"/v1/incidents/{incident}/notes", None),
        ("POST", f"/v1/incidents/{incident}/notes", {"body": "mine now"}),
    ):
        assert_error(client.request(method, path, json=body, headers=other.headers), 404,
                     "not_found")  # fmt: skip
    mine = client.get("/v1/incidents", headers=tenant.headers).json()[0]
    assert mine["id"] == incident
    assert client.get(f"/v1/incidents/{incident}/notes", headers=tenant.headers).json() == []
