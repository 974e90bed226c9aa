"""Locations & agents, Settings, channels and the Audit log in a real browser (Debian's
Chromium driven by Playwright against ``callprobe serve``): an owner adds a location and
an agent (token and start command shown once), an API key and an invitation, a webhook
channel whose test send reaches a real receiver, and reads the audit log. Screenshots land
in ``.var/screenshots/console-{agents,settings,channels,audit}.png``."""

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
from tests.integration.notify.receiver import serving

pytestmark = pytest.mark.db

API_PORT = 18263
BASE = f"http://127.0.0.1:{API_PORT}"


@pytest.fixture(scope="module")
def server(db: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    loopback = {"CALLPROBE_NOTIFY_ALLOW_NETWORKS": "127.0.0.0/8", "CALLPROBE_PUBLIC_URL": BASE}
    environ = harness.env(db.url, tmp_path_factory.mktemp("console-settings"), **loopback)
    proc = harness.serve(API_PORT, environ)
    yield db.url
    harness.stop(proc)


def _signed_in_owner(url: str) -> tuple[str, str, str]:
    """A project with an owner signed in to it: (project id, email, session cookie)."""
    admin = {"Authorization": f"Bearer {harness.ADMIN}"}
    made = httpx.post(f"{BASE}/v1/projects", json={"name": f"settings-{time.monotonic_ns()}"},
                      headers=admin).json()  # fmt: skip
    project_id = made["project"]["id"]
    email = f"owner-{uuid.uuid4().hex[:8]}@example.test"

    async def sign_in() -> str:
        hashed = await accounts.hash_password("correct horse battery staple")
        async with transaction(url) as conn:
            user = await users.create_user(conn, email, hashed)
            await users.join(conn, user.id, uuid.UUID(project_id), "owner")
            started = await accounts.start_session(conn, Settings(database_url=url), user.id,
                                                   datetime.now(UTC))  # fmt: skip
        return started.cookie

    with ThreadPoolExecutor(1) as thread:  # Playwright's own event loop runs in this one
        return project_id, email, thread.submit(asyncio.run, sign_in()).result()


def test_owner_runs_agents_settings_channels_and_reads_the_audit_log(
    server: str, page: Page
) -> None:
    project_id, email, cookie = _signed_in_owner(server)
    cookies: list[Any] = [{"name": accounts.SESSION_COOKIE, "value": cookie,
                           "domain": "127.0.0.1", "path": "/console"}]  # fmt: skip
    page.context.add_cookies(cookies)
    base = f"{BASE}/console/p/{project_id}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{base}/agents")
    page.get_by_label("New location").fill("fra")
    page.get_by_role("button", name="Add location").click()
    page.get_by_label("Name").fill("edge-1")
    page.get_by_role("button", name="Create agent").click()
    expect(page.locator("#agent-token")).to_contain_text("cpa_")
    expect(page.locator("#start-env")).to_contain_text("CALLPROBE_AGENT_TOKEN=cpa_")
    expect(page.locator("#start-env")).to_contain_text(f"--api {BASE} --location fra")
    expect(page.locator("#fleet tbody tr")).to_contain_text("never")
    page.screenshot(path=SCREENSHOTS / "console-agents.png", full_page=True)

    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_label("New key name").fill("ci")
    page.get_by_label("Scope").select_option("write")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#new-key-token")).to_contain_text("cp_")
    page.locator("#inv-email").fill("new.colleague@example.test")
    page.get_by_label("Role", exact=True).select_option("editor")
    page.get_by_role("button", name="Create invitation link").click()
    expect(page.locator("#invite-link")).to_contain_text(f"{BASE}/console/invite/")
    expect(page.locator("#members")).to_contain_text(f"{email} (you)")
    page.screenshot(path=SCREENSHOTS / "console-settings.png", full_page=True)

    with serving() as receiver:
        page.get_by_role("link", name="Notification channels and their delivery log").click()
        page.get_by_role("link", name="Webhook (Standard Webhooks, signed)").click()
        page.get_by_label("Name").fill("NOC webhook")
        page.get_by_label("URL").fill(receiver.url)
        page.get_by_role("button", name="Create channel").click()
        expect(page.locator("#signing-secret")).to_contain_text("whsec_")
        page.get_by_role("button", name="Send a test notice").click()
        expect(page.locator("#test-h + p")).to_contain_text("delivered")
        assert len(receiver.accepted()) == 1
    expect(page.get_by_role("button", name="Redeliver")).to_have_count(1)
    page.screenshot(path=SCREENSHOTS / "console-channels.png", full_page=True)

    page.get_by_role("link", name="Audit log").click()
    rows = page.locator("table.audit > tbody > tr")
    expect(rows.first).to_contain_text("test_send channel")
    expect(page.locator("table.audit")).to_contain_text("create agent")
    expect(page.locator("table.audit")).to_contain_text(email)
    expect(page.locator("table.audit")).not_to_contain_text("whsec_")
    page.screenshot(path=SCREENSHOTS / "console-audit.png", full_page=True)
    exported = page.request.get(f"{base}/audit/export.csv")
    assert exported.ok and exported.text().startswith("id,at,actor")
