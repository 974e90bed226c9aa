"""Probe detail and the per-call page in a real browser (Debian's Chromium driven by
Playwright against ``callprobe serve``): the plotly charts draw under the console's strict
CSP without a console error or a CSP violation, switching ranges redraws them, and a
result opens its call page. Screenshots land in ``.var/screenshots/console-probe-detail.png``
and ``console-call.png``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from api.services import accounts
from api.settings import Settings
from bench import platform_harness as harness
from store import projects, users
from store.pool import transaction
from tests.acceptance.conftest import SCREENSHOTS
from tests.conftest import Cluster
from tests.integration.console.test_console_probe_detail import World, seed

pytestmark = pytest.mark.db

API_PORT = 18251
BASE = f"http://127.0.0.1:{API_PORT}"
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture(scope="module")
def server(db: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc = harness.serve(API_PORT, harness.env(db.url, tmp_path_factory.mktemp("console")))
    yield db.url
    harness.stop(proc)


def _seeded_viewer(url: str) -> tuple[str, World, str]:
    """A project with the seeded probe and a viewer signed in: (project id, world, cookie)."""

    async def make() -> tuple[str, World, str]:
        hashed = await accounts.hash_password("correct horse battery staple")
        async with transaction(url) as conn:
            project = await projects.create_project(conn, f"detail-{uuid.uuid4().hex[:8]}")
            world = await seed(conn, project.id, datetime.now(UTC))
            user = await users.create_user(conn, f"v-{uuid.uuid4().hex[:8]}@example.test", hashed)
            await users.join(conn, user.id, project.id, "viewer")
            now = datetime.now(UTC)
            started = await accounts.start_session(conn, Settings(database_url=url), user.id, now)
        return str(project.id), world, started.cookie

    with ThreadPoolExecutor(1) as thread:  # Playwright's own event loop runs in this one
        return thread.submit(asyncio.run, make()).result()


def _error(message: ConsoleMessage) -> list[str]:
    """A console error worth failing for (the browser's own favicon request is not)."""
    if message.type != "error" or message.location["url"].endswith("/favicon.ico"):
        return []
    return [f"{message.text} at {message.location['url']}"]


def test_charts_draw_ranges_switch_and_a_call_opens(server: str, page: Page) -> None:
    project_id, world, cookie = _seeded_viewer(server)
    cookies: list[Any] = [{"name": accounts.SESSION_COOKIE, "value": cookie,
                           "domain": "127.0.0.1", "path": "/console"}]  # fmt: skip
    page.context.add_cookies(cookies)
    errors: list[str] = []
    page.on("console", lambda m: errors.extend(_error(m)))
    page.on("pageerror", lambda e: errors.append(str(e)))
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.add_init_script(WATCH_CSP)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{BASE}/console/p/{project_id}/probes/{world.probe_id}")
    expect(page.locator("#chart-mos .main-svg").first).to_be_visible()
    expect(page.locator("#chart-asr .main-svg").first).to_be_visible()
    expect(page.locator("#health tbody tr").first).to_contain_text("degraded")
    page.screenshot(path=SCREENSHOTS / "console-probe-detail.png", full_page=True)

    page.locator("nav.ranges").get_by_role("link", name="7d").click()
    expect(page).to_have_url(f"{BASE}/console/p/{project_id}/probes/{world.probe_id}?range=7d")
    expect(page.locator("nav.ranges a[aria-current=page]")).to_have_text("7d")
    expect(page.get_by_text("Hourly means from")).to_be_visible()
    expect(page.locator("#chart-mos .main-svg").first).to_be_visible()
    expect(page.locator("#results tbody tr")).to_have_count(5)

    page.locator("#results tbody tr").first.get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text("Call at")
    expect(page.locator("#timeline tbody tr")).to_have_count(2)  # INVITE, 180: the 486 has no time
    page.goto(f"{BASE}/console/p/{project_id}/probes/{world.probe_id}/calls/{world.runs['ok']}")
    expect(page.locator("#emodel")).to_have_text("E-model: R 75.7: codec 0.0, loss 15.8, delay 1.8")
    page.screenshot(path=SCREENSHOTS / "console-call.png", full_page=True)

    assert page.evaluate("window.__csp") == []
    assert failed == [] and errors == []
