"""The support-site warning in a real browser: a plain HTML "support site" on another
origin includes the snippet the management API hands out, and Chromium shows the
banner (page name, colour, link) only while the page has been down long enough.
Screenshots land in ``.var/screenshots``.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from bench import platform_harness as harness
from tests.acceptance.conftest import SCREENSHOTS
from tests.conftest import Cluster
from tests.health_history import store_history

pytestmark = pytest.mark.db

API_PORT = 18223
BASE = f"http://127.0.0.1:{API_PORT}"
HOSTILE_NAME = "<b>x</b> Voice"


@pytest.fixture(scope="module")
def server(db: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    environ = harness.env(
        db.url, tmp_path_factory.mktemp("warning"), CALLPROBE_PUBLIC_URL=BASE,
        CALLPROBE_PAGE_CACHE_S="0",
    )  # fmt: skip
    proc = harness.serve(API_PORT, environ)
    yield db.url
    harness.stop(proc)


@dataclass
class Site:
    """A support site on another origin: the HTML it serves, by path."""

    url: str
    pages: dict[str, str]


@pytest.fixture(scope="module")
def support_site() -> Iterator[Site]:
    pages: dict[str, str] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield Site(url=f"http://127.0.0.1:{httpd.server_address[1]}", pages=pages)
    httpd.shutdown()


def _page(url: str, state: str, ago: timedelta) -> dict[str, Any]:
    """A page named ``HOSTILE_NAME`` whose one component has been ``state`` for ``ago``."""
    project = httpx.post(
        f"{BASE}/v1/projects",
        json={"name": f"warning-{time.monotonic_ns()}"},
        headers={"Authorization": f"Bearer {harness.ADMIN}"},
    ).json()
    headers = {"Authorization": f"Bearer {project['key']['token']}"}
    probe = httpx.post(f"{BASE}/v1/probes", headers=headers, json={
        "name": "trunk", "kind": "sip_call", "target": "sip:echo@127.0.0.1:5999", "enabled": False,
    }).json()["id"]  # fmt: skip
    body = {
        "name": HOSTILE_NAME, "slug": f"acme-{time.monotonic_ns()}", "primary_color": "#8e24aa",
        "components": [{"probe_id": probe, "name": "Primary SIP Trunk"}],
    }  # fmt: skip
    created = httpx.post(f"{BASE}/v1/pages", json=body, headers=headers)
    assert created.status_code == 201, created.text
    now = datetime.now(UTC)
    store_history(url, project["project"]["id"], probe, [
        (now - timedelta(days=1), "healthy", []), (now - ago, state, []),
    ])  # fmt: skip
    page: dict[str, Any] = created.json()
    return page


def _serve(site: Site, path: str, created: dict[str, Any], after_minutes: int) -> str:
    snippet = created["warning_snippet"].replace(
        'data-after-minutes="3"', f'data-after-minutes="{after_minutes}"'
    )
    site.pages[path] = f"<!doctype html><title>Help</title><h1>Acme support</h1>{snippet}"
    return f"{site.url}{path}"


def _visit_without_banner(page: Page, address: str, *, show: bool = False) -> None:
    """Load ``address``, wait for the warning's answer (``show`` as given), and see no
    banner follow it."""
    with page.expect_response(lambda r: "/api/warning.json" in r.url) as answer:
        page.goto(address)
    assert answer.value.status == 200 and answer.value.json()["show"] is show
    page.wait_for_timeout(500)
    assert page.locator(".callprobe-warning").count() == 0


def test_banner_shows_the_page_when_down_past_n_minutes(
    server: str, page: Page, support_site: Site
) -> None:
    created = _page(server, "unhealthy", timedelta(minutes=1))
    page.goto(_serve(support_site, "/down", created, 0))
    banner = page.locator(".callprobe-warning")
    expect(banner).to_be_visible(timeout=10_000)
    assert banner.locator("strong").inner_text() == HOSTILE_NAME
    assert banner.locator("b").count() == 0
    assert "Major Issues Detected (Primary SIP Trunk)" in banner.inner_text()
    assert banner.get_attribute("role") == "status"
    style = banner.evaluate("e => [getComputedStyle(e).backgroundColor, e.style.position]")
    assert style == ["rgb(142, 36, 170)", "fixed"]
    assert banner.locator("a").get_attribute("href") == created["urls"]["page"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "support-warning.png", full_page=True)

    banner.get_by_role("button", name="Dismiss").click()
    expect(banner).to_have_count(0)
    _visit_without_banner(page, f"{support_site.url}/down", show=True)  # dismissed


def test_no_banner_before_n_minutes_or_while_healthy(
    server: str, page: Page, support_site: Site
) -> None:
    recent = _page(server, "unhealthy", timedelta(minutes=1))
    _visit_without_banner(page, _serve(support_site, "/recent", recent, 3))
    healthy = _page(server, "healthy", timedelta(minutes=30))
    _visit_without_banner(page, _serve(support_site, "/healthy", healthy, 0))
    page.screenshot(path=SCREENSHOTS / "support-warning-healthy.png", full_page=True)
