"""Status pages and incidents in the console, in a real browser (Debian's Chromium driven
by Playwright against ``callprobe serve``): an editor creates a status page from a probe,
renames its component, opens its public URL, then acknowledges an incident and adds a
note. Screenshots land in ``.var/screenshots/console-{pages,page-editor,incidents}.png``."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from playwright.sync_api import Page, expect

from api.services import accounts
from api.settings import Settings
from bench import platform_harness as harness
from store import users
from store.pool import transaction
from tests.acceptance.conftest import SCREENSHOTS
from tests.conftest import Cluster
from tests.incident_history import record_moves

pytestmark = pytest.mark.db

API_PORT = 18271
BASE = f"http://127.0.0.1:{API_PORT}"
T = TypeVar("T")


@pytest.fixture(scope="module")
def server(db: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    environ = harness.env(db.url, tmp_path_factory.mktemp("console-pages"),
                          CALLPROBE_PUBLIC_URL=BASE)  # fmt: skip
    proc = harness.serve(API_PORT, environ)
    yield db.url
    harness.stop(proc)


def _aside(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` on a loop of its own (Playwright's runs in this thread)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, work).result()


def _world(url: str) -> tuple[str, str, str]:
    """A project with a probe in an open incident and a signed-in editor: (project id,
    editor's email, session cookie)."""
    admin = {"Authorization": f"Bearer {harness.ADMIN}"}
    made = httpx.post(f"{BASE}/v1/projects", json={"name": f"pages-{time.monotonic_ns()}"},
                      headers=admin).json()  # fmt: skip
    project_id, key = made["project"]["id"], {"Authorization": f"Bearer {made['key']['token']}"}
    probe = httpx.post(f"{BASE}/v1/probes", headers=key, json={
        "name": "Trunk Frankfurt", "kind": "sip_call", "target": "sip:echo@127.0.0.1:5999",
        "enabled": False,
    }).json()  # fmt: skip
    opened = datetime.now(UTC) - timedelta(minutes=25)
    _aside(record_moves(url, project_id, probe["id"], [(opened, "unhealthy", "MOS fell to 3.1")]))
    email = f"editor-{uuid.uuid4().hex[:8]}@example.test"

    async def sign_in() -> str:
        hashed = await accounts.hash_password("correct horse battery staple")
        async with transaction(url) as conn:
            user = await users.create_user(conn, email, hashed)
            await users.join(conn, user.id, uuid.UUID(project_id), "editor")
            started = await accounts.start_session(conn, Settings(database_url=url), user.id,
                                                   datetime.now(UTC))  # fmt: skip
        return started.cookie

    return project_id, email, _aside(sign_in())


def test_editor_publishes_a_page_from_a_probe_and_follows_up_an_incident(
    server: str, page: Page
) -> None:
    project_id, email, cookie = _world(server)
    page.context.add_cookies([{"name": accounts.SESSION_COOKIE, "value": cookie,
                               "domain": "127.0.0.1", "path": "/console"}])  # fmt: skip
    base = f"{BASE}/console/p/{project_id}"
    slug = f"acme-{uuid.uuid4().hex[:8]}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{base}/pages")
    page.get_by_label("Name").fill("Acme Voice")
    page.get_by_label("Slug").fill(slug)
    page.get_by_label("Trunk Frankfurt").check()
    page.get_by_role("button", name="Create status page").click()
    expect(page.locator("h1")).to_have_text("Acme Voice")
    page.get_by_label("Customer-facing name of Trunk Frankfurt").fill("Voice (EU)")
    page.get_by_role("button", name="Save components").first.click()
    expect(page.locator("#preview")).to_contain_text("Voice (EU)")
    expect(page.locator("#preview .banner")).to_contain_text("Status Pending")
    expect(page.locator("#copy-embed")).to_contain_text(f"{BASE}/s/{slug}/embed")
    page.screenshot(path=SCREENSHOTS / "console-page-editor.png", full_page=True)

    page.get_by_role("link", name="← Status pages").click()
    expect(page.get_by_role("link", name="Acme Voice")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "console-pages.png", full_page=True)
    public = page.get_by_role("link", name=f"{BASE}/s/{slug}").get_attribute("href")
    assert public == f"{BASE}/s/{slug}"
    page.goto(public)
    expect(page.locator("h1")).to_have_text("Status Pending")
    expect(page.locator(".component")).to_contain_text("Voice (EU)")

    page.goto(f"{base}/incidents")
    expect(page.locator(".incident")).to_contain_text("MOS fell to 3.1")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".incident .ack")).to_contain_text(f"by {email}")
    page.get_by_label("Internal note").fill("Carrier ticket 4711 opened")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".incident .timeline")).to_contain_text("Carrier ticket 4711 opened")
    page.screenshot(path=SCREENSHOTS / "console-incidents.png", full_page=True)
