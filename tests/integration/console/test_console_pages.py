"""The status page screens: "New status page" from probes, the editor's settings,
components, images, announcements, maintenance and custom domain, each a call of the
API's route function; refusals beside their fields; viewers see and may change nothing."""

from __future__ import annotations

import re
import struct
import uuid
import zlib
from typing import Any

import psycopg
import pytest

from api.settings import Settings
from store import status_pages
from store.pool import transaction
from tests.conftest import Run
from tests.incident_history import add_probe
from tests.integration.console.conftest import Person

pytestmark = pytest.mark.db


def png() -> bytes:
    """A one-pixel blue PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x0b\x5c\xad")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _slug() -> str:
    return f"acme-{uuid.uuid4().hex[:10]}"


def _create(person: Person, probes: list[uuid.UUID], slug: str, name: str = "Acme Voice") -> Any:
    return person.client.post(
        person.path("/pages"),
        data={"csrf": person.csrf, "name": name, "slug": slug, "probe": [str(p) for p in probes]},
    )


def _made(run: Run[Any], settings: Settings, project: uuid.UUID, editor: Person) -> dict[str, Any]:
    """A page made through the form, showing one probe; its id, slug and probe."""
    probe = run(add_probe(settings.resolved_database_url, project, "Trunk Frankfurt"))
    slug = _slug()
    made = _create(editor, [probe], slug)
    assert made.status_code == 303, made.text
    page_id = made.headers["location"].rsplit("/", 1)[1]
    return {"id": page_id, "slug": slug, "probe": probe, "editor": made.headers["location"]}


def _components(run: Run[Any], settings: Settings, project: uuid.UUID, page_id: str) -> Any:
    async def read() -> Any:
        async with transaction(settings.resolved_database_url) as conn:
            page = await status_pages.get_page(conn, project, uuid.UUID(page_id))
            return page, await status_pages.components(conn, page.id)

    return run(read())


def test_a_page_made_from_a_probe_is_published(
    run: Run[Any], api_settings: Settings, project: uuid.UUID, editor: Person
) -> None:
    listing = editor.client.get(editor.path("/pages"))
    assert listing.status_code == 200 and "New status page" in listing.text
    page = _made(run, api_settings, project, editor)
    screen = editor.client.get(page["editor"])
    assert screen.status_code == 200
    assert "Trunk Frankfurt" in screen.text and "Status Pending" in screen.text
    for copy in ("copy-embed", "copy-wall", "copy-json", "copy-warning"):
        assert f'data-copy="{copy}"' in screen.text and f'id="{copy}"' in screen.text
    public = editor.client.get(f"/s/{page['slug']}")
    assert public.status_code == 200 and "Trunk Frankfurt" in public.text
    assert f"/s/{page['slug']}" in editor.client.get(editor.path("/pages")).text
    with psycopg.connect(api_settings.resolved_database_url) as conn:
        logged = conn.execute(
            "SELECT actor, via FROM audit_log WHERE project_id = %s"
            " AND target_type = 'status_page'",
            (project,),
        ).fetchall()
    assert (editor.email, "console") in logged


def test_settings_and_components_are_edited(
    run: Run[Any], api_settings: Settings, project: uuid.UUID, editor: Person
) -> None:
    page = _made(run, api_settings, project, editor)
    second = run(add_probe(api_settings.resolved_database_url, project, "Backup trunk"))
    settings = {
        "name": "Acme Status", "slug": page["slug"], "description": "Voice services",
        "time_zone": "Europe/Berlin", "bar_days": "30", "primary_color": "#AA3300",
        "refresh_s": "30", "custom_domain": "", "degraded_is_up": "on",
        "frame_ancestors": "https://support.example.com\nhttps://help.example.com",
    }  # fmt: skip
    saved = editor.post(page["editor"], settings)
    assert saved.status_code == 303, saved.text
    components = {"count": "1", "c-0-probe": str(page["probe"]), "c-0-name": "Voice (EU)",
                  "c-0-description": "Calls", "c-0-group": "Voice",
                  "add_probe": str(second)}  # fmt: skip
    assert editor.post(f"{page['editor']}/components", components).status_code == 303
    stored, shown = _components(run, api_settings, project, page["id"])
    assert (stored.name, stored.time_zone, stored.bar_days, stored.primary_color) == (
        "Acme Status", "Europe/Berlin", 30, "#aa3300",
    )  # fmt: skip
    assert stored.degraded_is_up and stored.frame_ancestors == [
        "https://support.example.com", "https://help.example.com",
    ]  # fmt: skip
    assert [(c.name, c.group_name) for c in shown] == [
        ("Voice (EU)", "Voice"),
        ("Backup trunk", None),
    ]
    rows = {"count": "2", "move": "1:up"} | {
        f"c-{i}-{key}": value
        for i, c in enumerate(shown)
        for key, value in (
            ("probe", str(c.probe_id)),
            ("name", c.name),
            ("group", c.group_name or ""),
        )
    }
    assert editor.post(f"{page['editor']}/components", rows).status_code == 303
    _, shown = _components(run, api_settings, project, page["id"])
    assert [c.name for c in shown] == ["Backup trunk", "Voice (EU)"]
    assert "Acme Status" in editor.client.get(f"/s/{page['slug']}").text


def test_refusals_show_beside_their_fields(
    run: Run[Any], api_settings: Settings, project: uuid.UUID, editor: Person
) -> None:
    page = _made(run, api_settings, project, editor)
    bad = {"name": "Acme", "slug": "Not A Slug", "primary_color": "red", "time_zone": "Mars/Base",
           "bar_days": "90", "refresh_s": "60", "description": "", "custom_domain": "",
           "frame_ancestors": "javascript:alert(1)"}  # fmt: skip
    refused = editor.post(page["editor"], bad)
    assert refused.status_code == 422
    for field in ("slug", "primary_color", "time_zone", "frame_ancestors"):
        assert re.search(rf'id="settings-{field}-e">[^<]+<', refused.text), field
    assert 'value="Not A Slug"' in refused.text, "the typed values are kept"
    other = _made(run, api_settings, project, editor)
    taken = editor.post(other["editor"], {**bad, "slug": page["slug"], "primary_color": "#000000",
                                          "time_zone": "UTC", "frame_ancestors": ""})  # fmt: skip
    assert taken.status_code == 422
    assert re.search(r'id="settings-slug-e">[^<]*slug', taken.text)
    twice = _create(editor, [page["probe"]], page["slug"])
    assert twice.status_code == 422 and 'id="new-slug-e"' in twice.text
    blank = {"count": "1", "c-0-probe": str(page["probe"]), "c-0-name": ""}
    unnamed = editor.post(f"{page['editor']}/components", blank)
    assert unnamed.status_code == 422 and 'id="c-0-name-e"' in unnamed.text


def test_a_logo_is_uploaded_through_the_api_checks(
    run: Run[Any], api_settings: Settings, project: uuid.UUID, editor: Person
) -> None:
    page = _made(run, api_settings, project, editor)
    logo = png()
    url = f"{page['editor']}/images/header_logo"
    sent = editor.client.post(url, data={"csrf": editor.csrf},
                              files={"file": ("logo.png", logo, "image/png")})  # fmt: skip
    assert sent.status_code == 303, sent.text
    served = editor.client.get(f"/s/{page['slug']}/images/header_logo")
    assert served.status_code == 200 and served.content == logo
    assert served.headers["content-type"] == "image/png"
    assert f'src="/s/{page["slug"]}/images/header_logo?v=' in editor.client.get(page["editor"]).text
    fake = editor.client.post(url, data={"csrf": editor.csrf},
                              files={"file": ("x.png", b"GIF89a....", "image/png")})  # fmt: skip
    assert fake.status_code == 422 and "not a PNG, JPEG, WebP or SVG image" in fake.text
    gone = editor.post(f"{url}/delete", {})
    assert gone.status_code == 303
    assert editor.client.get(f"/s/{page['slug']}/images/header_logo").status_code == 404


def test_announcements_maintenance_and_domain(
    run: Run[Any], api_settings: Settings, project: uuid.UUID, editor: Person
) -> None:
    page = _made(run, api_settings, project, editor)
    base = page["editor"]
    assert (
        editor.post(f"{base}/announcements", {"title": "Carrier works tonight"}).status_code == 303
    )
    window = {
        "title": "Core upgrade",
        "starts_at": "2031-03-01T22:00",
        "ends_at": "2031-03-01T23:30",
    }
    assert editor.post(f"{base}/maintenance", window).status_code == 303
    backwards = editor.post(f"{base}/maintenance", {**window, "ends_at": "2031-03-01T21:00"})
    assert backwards.status_code == 422 and "ends_at must be after starts_at" in backwards.text
    html = editor.client.get(base).text
    assert (
        "Carrier works tonight" in html
        and "2031-03-01 22:00 \N{EN DASH} 2031-03-01 23:30 UTC" in html
    )
    assert "Carrier works tonight" in editor.client.get(f"/s/{page['slug']}").text
    for kind in ("announcements", "maintenance"):
        target = re.search(rf'action="({re.escape(base)}/{kind}/[0-9a-f-]+/delete)"', html)
        assert target, kind
        assert editor.post(target.group(1), {}).status_code == 303
    assert "Carrier works tonight" not in editor.client.get(base).text
    no_domain = editor.post(f"{base}/domain/verify", {})
    assert no_domain.status_code == 422 and "no custom_domain" in no_domain.text
    fields = {"name": "Acme", "slug": page["slug"], "custom_domain": "status.example.com",
              "time_zone": "UTC", "bar_days": "90", "primary_color": "#0b5cad",
              "refresh_s": "60", "description": "", "frame_ancestors": ""}  # fmt: skip
    assert editor.post(base, fields).status_code == 303
    html = editor.client.get(base).text
    assert "_callprobe-challenge.status.example.com" in html and "callprobe-verification=" in html
    assert 'data-copy="copy-txt-value"' in html and ">Verify</button>" in html


def test_viewers_see_no_forms_and_are_refused(
    run: Run[Any], api_settings: Settings, project: uuid.UUID, editor: Person, viewer: Person
) -> None:
    page = _made(run, api_settings, project, editor)
    listing = viewer.client.get(viewer.path("/pages")).text
    assert "Acme Voice" in listing and "New status page" not in listing
    html = viewer.client.get(page["editor"]).text
    assert "Trunk Frankfurt" in html
    posting = re.findall(r'<form[^>]* method="post" action="([^"]+)"', html)
    assert posting == ["/console/logout"], posting
    for path, data in (
        (viewer.path("/pages"), {"name": "x", "slug": _slug()}),
        (page["editor"], {"name": "taken over"}),
        (f"{page['editor']}/components", {"count": "0"}),
        (f"{page['editor']}/announcements", {"title": "x"}),
        (f"{page['editor']}/delete", {}),
    ):
        assert viewer.post(path, data).status_code == 403, path
    forged = editor.client.post(f"{page['editor']}/delete", data={})
    assert forged.status_code == 403
    assert editor.client.get(f"/s/{page['slug']}").status_code == 200
    assert editor.post(f"{page['editor']}/delete", {}).status_code == 303
    assert editor.client.get(f"/s/{page['slug']}").status_code == 404
