"""Locations and agents in the console: an agent's token shown once with a start command
that keeps it out of argv; what an agent reports when it leases (version, spool backlog);
offline after silence; viewers see no forms and are refused; the change is audited with
the person's email, via the console."""

from __future__ import annotations

import re
import uuid
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.settings import Settings
from tests.conftest import Run
from tests.integration.console.conftest import Person

pytestmark = pytest.mark.db


def _agent(person: Person, location: str = "fra") -> tuple[str, str]:
    """A location and an agent there, made through the console; its token and page."""
    made = person.post(person.path("/agents/locations"), {"name": location})
    assert made.status_code == 303, made.text
    created = person.post(person.path("/agents"), {"name": "edge-1", "location": location})
    assert created.status_code == 201, created.text
    token = re.search(r"cpa_[A-Za-z0-9_-]{20,}", created.text)
    assert token is not None
    return token.group(0), created.text


def test_agent_token_shown_once_with_a_start_command(
    editor: Person, api_settings: Settings
) -> None:
    token, page = _agent(editor)
    assert f"CALLPROBE_AGENT_TOKEN={token} callprobe agent --api {api_settings.public_url}" in page
    assert "--location fra" in page and "--token-file" in page
    assert "--token " not in page
    again = editor.client.get(editor.path("/agents"))
    assert token not in again.text and token[:10] in again.text
    assert "never" in again.text and "offline</span>" in again.text


def test_lease_reports_version_and_backlog_then_offline_after_silence(
    editor: Person, client: TestClient, api_settings: Settings
) -> None:
    token, _ = _agent(editor)
    leased = client.post(
        "/v1/agent/lease",
        json={"location": "fra", "max_runs": 1, "agent_version": "9.8.7", "spool_backlog": 42},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert leased.status_code == 200, leased.text
    html = editor.client.get(editor.path("/agents")).text
    assert "9.8.7" in html and '<td class="num">42</td>' in html
    assert "online</span>" in html and "0.0" in html
    assert "times 3" in html

    with psycopg.connect(api_settings.resolved_database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE agents SET last_seen = now() - interval '1 hour' WHERE prefix = %s",
            (token[:10],),
        )
    assert "offline</span>" in editor.client.get(editor.path("/agents")).text


def test_revoke_and_audit_by_email_via_console(
    run: Run[Any], editor: Person, owner: Person, api_settings: Settings
) -> None:
    token, _ = _agent(editor)
    with psycopg.connect(api_settings.resolved_database_url) as conn:
        row = conn.execute("SELECT id FROM agents WHERE prefix = %s", (token[:10],)).fetchone()
    assert row is not None
    revoked = editor.post(editor.path(f"/agents/{row[0]}/revoke"), {})
    assert revoked.status_code == 303
    assert "revoked</span>" in editor.client.get(editor.path("/agents")).text
    audit = owner.client.get(owner.path("/audit")).text
    assert f"<td>{editor.email}</td>" in audit and "<td>console</td>" in audit
    assert "revoke agent" in audit and "create location" in audit
    assert token not in audit


def test_viewer_sees_no_forms_and_is_refused(viewer: Person) -> None:
    page = viewer.client.get(viewer.path("/agents"))
    assert page.status_code == 200
    assert "<form" not in page.text.split("<main", 1)[1]
    refused = viewer.post(viewer.path("/agents/locations"), {"name": "x"})
    assert refused.status_code == 403
    forged = viewer.client.post(viewer.path("/agents/locations"), data={"name": "x"})
    assert forged.status_code == 403
    unknown = viewer.post(viewer.path(f"/agents/{uuid.uuid4()}/revoke"), {})
    assert unknown.status_code == 403
