"""The incidents screen: the list with timelines and filters; acknowledging and notes go
through the API's route functions for editors, and are absent and refused for viewers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.settings import Settings
from store import projects, status_pages
from store.pool import transaction
from tests.conftest import Run
from tests.incident_history import add_probe, record_moves
from tests.integration.console.conftest import Person

pytestmark = pytest.mark.db


def _world(run: Run[Any], settings: Settings, project: uuid.UUID) -> dict[str, uuid.UUID]:
    """Two probes, one on a page: an open incident on the first (degraded, then worse),
    a resolved one on the second."""
    url, now = settings.resolved_database_url, datetime.now(UTC)
    trunk = run(add_probe(url, project, "Trunk Frankfurt"))
    backup = run(add_probe(url, project, "Backup trunk"))
    open_one = run(record_moves(url, project, trunk, [
        (now - timedelta(minutes=50), "degraded", "MOS fell to 3.8"),
        (now - timedelta(minutes=40), "unhealthy", "MOS fell to 3.1"),
    ]))  # fmt: skip
    resolved = run(record_moves(url, project, backup, [
        (now - timedelta(days=1, hours=2), "unhealthy", "no answer (408)"),
        (now - timedelta(days=1), "healthy", ""),
    ]))  # fmt: skip

    async def page() -> uuid.UUID:
        async with transaction(url) as conn:
            made = await status_pages.create_page(
                conn, project, {"name": "Acme", "slug": f"inc-{uuid.uuid4().hex[:10]}"}
            )
            fields = status_pages.ComponentFields(
                probe_id=trunk, name="Voice", description="", group_name=None
            )
            await status_pages.set_components(conn, made.id, [fields])
        return made.id

    return {"trunk": trunk, "backup": backup, "open": open_one, "resolved": resolved,
            "page": run(page())}  # fmt: skip


def test_editor_sees_timelines_acknowledges_and_adds_notes(
    run: Run[Any], api_settings: Settings, project: uuid.UUID, editor: Person
) -> None:
    ids = _world(run, api_settings, project)
    screen = editor.client.get(editor.path("/incidents"))
    assert screen.status_code == 200
    html = screen.text[screen.text.index('<div id="incidents">') :]
    assert html.index("Trunk Frankfurt") < html.index("Backup trunk"), "open incidents first"
    assert "MOS fell to 3.1" in html and "no answer (408)" in html
    assert "1 h" in html or "2 h" in html
    assert html.count(">Acknowledge</button>") == 2
    assert 'st-degraded">degraded</span> → <span class="state st-unhealthy">' in html

    acked = editor.post(editor.path(f"/incidents/{ids['open']}/acknowledge"), {})
    assert acked.status_code == 303
    html = editor.client.get(acked.headers["location"]).text
    assert f"by {editor.email} at" in html
    assert html.count(">Acknowledge</button>") == 1

    note = "<b>carrier</b> ticket 4711"
    added = editor.post(editor.path(f"/incidents/{ids['open']}/notes"), {"body": note})
    assert added.status_code == 303
    html = editor.client.get(editor.path("/incidents")).text
    assert f"Note by {editor.email}:" in html and "&lt;b&gt;carrier&lt;/b&gt; ticket 4711" in html

    empty = editor.post(editor.path(f"/incidents/{ids['open']}/notes"), {"body": "   "})
    assert empty.status_code == 422
    assert 'class="field-error"' in empty.text


def test_filters_by_probe_and_by_page(
    run: Run[Any], api_settings: Settings, project: uuid.UUID, viewer: Person
) -> None:
    ids = _world(run, api_settings, project)
    by_probe = viewer.client.get(viewer.path(f"/incidents?probe={ids['backup']}")).text
    assert "no answer (408)" in by_probe and "MOS fell to 3.1" not in by_probe
    by_page = viewer.client.get(viewer.path(f"/incidents?page={ids['page']}")).text
    assert "MOS fell to 3.1" in by_page and "no answer (408)" not in by_page
    junk = viewer.client.get(viewer.path("/incidents?probe=nonsense&page="))
    assert junk.status_code == 200 and "no answer (408)" in junk.text


def test_viewer_sees_no_buttons_and_is_refused(
    run: Run[Any], api_settings: Settings, project: uuid.UUID, viewer: Person, editor: Person
) -> None:
    ids = _world(run, api_settings, project)
    html = viewer.client.get(viewer.path("/incidents")).text
    assert "MOS fell to 3.1" in html
    assert "Acknowledge</button>" not in html and 'name="body"' not in html
    for path, data in ((f"/incidents/{ids['open']}/acknowledge", {}),
                       (f"/incidents/{ids['open']}/notes", {"body": "mine"})):  # fmt: skip
        assert viewer.post(viewer.path(path), data).status_code == 403
    forged = editor.client.post(editor.path(f"/incidents/{ids['open']}/acknowledge"), data={})
    assert forged.status_code == 403
    assert (
        'Acknowledged</dt><dd class="ack">no' in editor.client.get(editor.path("/incidents")).text
    )


def test_another_projects_incident_is_not_found(
    run: Run[Any], api_settings: Settings, project: uuid.UUID, editor: Person
) -> None:
    url = api_settings.resolved_database_url
    other = _world(run, api_settings, project)["open"]

    async def elsewhere() -> uuid.UUID:
        async with transaction(url) as conn:
            return (await projects.create_project(conn, f"o-{uuid.uuid4().hex[:8]}")).id

    foreign_project = run(elsewhere())
    probe = run(add_probe(url, foreign_project, "theirs"))
    foreign = run(record_moves(url, foreign_project, probe, [
        (datetime.now(UTC), "degraded", "theirs"),
    ]))  # fmt: skip
    assert editor.post(editor.path(f"/incidents/{foreign}/acknowledge"), {}).status_code == 404
    assert editor.post(editor.path(f"/incidents/{foreign}/notes"), {"body": "x"}).status_code == 404
    assert editor.post(editor.path(f"/incidents/{other}/acknowledge"), {}).status_code == 303
