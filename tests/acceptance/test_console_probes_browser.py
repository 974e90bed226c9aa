"""Probes in the console, in a real browser (Debian's Chromium driven by Playwright against
``callprobe serve``): a SIP call probe is created from the form with the keyboard alone,
and a thresholds preset is applied and saved. Screenshots of the list, the form and the
thresholds editor land in ``.var/screenshots/console-probes*.png``."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

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

pytestmark = pytest.mark.db

API_PORT = 18247
BASE = f"http://127.0.0.1:{API_PORT}"


@pytest.fixture(scope="module")
def server(db: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc = harness.serve(API_PORT, harness.env(db.url, tmp_path_factory.mktemp("console")))
    yield db.url
    harness.stop(proc)


def _signed_in_editor(url: str) -> tuple[str, str]:
    """A project with a location and an editor signed in to it: (project id, cookie)."""
    admin = {"Authorization": f"Bearer {harness.ADMIN}"}
    made = httpx.post(f"{BASE}/v1/projects", json={"name": f"console-{time.monotonic_ns()}"},
                      headers=admin).json()  # fmt: skip
    key = {"Authorization": f"Bearer {made['key']['token']}"}
    httpx.post(f"{BASE}/v1/locations", json={"name": "ams"}, headers=key).raise_for_status()
    project_id = made["project"]["id"]

    async def sign_in() -> str:
        hashed = await accounts.hash_password("correct horse battery staple")
        async with transaction(url) as conn:
            user = await users.create_user(conn, f"ed-{uuid.uuid4().hex[:8]}@example.test", hashed)
            await users.join(conn, user.id, uuid.UUID(project_id), "editor")
            started = await accounts.start_session(conn, Settings(database_url=url), user.id,
                                                   datetime.now(UTC))  # fmt: skip
        return started.cookie

    with ThreadPoolExecutor(1) as thread:  # Playwright's own event loop runs in this one
        return project_id, thread.submit(asyncio.run, sign_in()).result()


def _tab_to(page: Page, name: str, limit: int = 60) -> None:
    """Press Tab until the field called ``name`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == name:
            return
    raise AssertionError(f"Tab never reached {name}")


def test_a_probe_is_created_with_the_keyboard_and_its_thresholds_set(
    server: str, page: Page
) -> None:
    project_id, cookie = _signed_in_editor(server)
    cookies: list[Any] = [{"name": accounts.SESSION_COOKIE, "value": cookie,
                           "domain": "127.0.0.1", "path": "/console"}]  # fmt: skip
    page.context.add_cookies(cookies)
    base = f"{BASE}/console/p/{project_id}/probes"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{base}/new?kind=sip_call")
    # autofocus lands at the next rendering step, which may come after the load event
    expect(page.locator("input[name=name]")).to_be_focused()
    page.keyboard.type("Trunk via keyboard")
    _tab_to(page, "target")
    page.keyboard.type("sip:echo@127.0.0.1:5280")
    _tab_to(page, "options.codec")
    page.keyboard.press("ArrowDown")  # PCMU -> PCMA
    _tab_to(page, "locations")
    page.keyboard.press("Space")
    _tab_to(page, "tags")
    page.keyboard.type("trunks, keyboard")
    page.screenshot(path=SCREENSHOTS / "console-probes-form.png", full_page=True)
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_have_text("Probe created.")
    row = page.locator("tbody tr", has_text="Trunk via keyboard")
    expect(row).to_contain_text("SIP call")
    expect(row).to_contain_text("ams")
    expect(row).to_contain_text("trunks, keyboard")
    expect(row.locator(".state")).to_have_text("unknown")
    page.screenshot(path=SCREENSHOTS / "console-probes.png", full_page=True)

    row.get_by_role("link", name="Thresholds").click()
    page.get_by_role("link", name="Carrier-grade G.711").click()
    expect(page.locator("input[name='warning.mos']")).to_have_value("4")
    page.locator("input[name='warning.mos']").fill("3.9")
    page.screenshot(path=SCREENSHOTS / "console-probes-thresholds.png", full_page=True)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Thresholds saved.")
    expect(page.locator("input[name='warning.mos']")).to_have_value("3.9")
    expect(page.locator("input[name='critical.pdd_ms']")).to_have_value("6000")
    page.emulate_media(color_scheme="dark")
    page.goto(base)
    page.screenshot(path=SCREENSHOTS / "console-probes-dark.png", full_page=True)
