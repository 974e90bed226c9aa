"""Status pages in a real browser: Debian's Chromium driven by Playwright against
``callprobe serve``.

The page renders the seeded states, the embed shows inside an iframe on another
origin only when the page allows that origin, and the NOC wall reloads itself
and shows a state change. Screenshots land in ``.var/screenshots``.
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
from tests.health_history import store_history, store_hourly

pytestmark = pytest.mark.db

API_PORT = 18195
ORIGIN_PORT = 18196
BASE = f"http://127.0.0.1:{API_PORT}"


@pytest.fixture(scope="module")
def server(db: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    environ = harness.env(db.url, tmp_path_factory.mktemp("pages"), CALLPROBE_PAGE_CACHE_S="10")
    proc = harness.serve(API_PORT, environ)
    yield db.url
    harness.stop(proc)


@dataclass
class Origin:
    """A second web server (another origin): the HTML it serves, by path."""

    url: str
    frames: dict[str, str]


@pytest.fixture(scope="module")
def other_origin() -> Iterator[Origin]:
    """A support portal on another origin, serving pages that frame the embed."""
    frames: dict[str, str] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = frames.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", ORIGIN_PORT), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield Origin(url=f"http://127.0.0.1:{ORIGIN_PORT}", frames=frames)
    httpd.shutdown()


def _world(url: str, **page_fields: Any) -> tuple[dict[str, Any], list[str], dict[str, str]]:
    """A project with three (disabled, so only the test judges them) probes on a page."""
    project = httpx.post(
        f"{BASE}/v1/projects",
        json={"name": f"browser-{time.monotonic_ns()}"},
        headers={"Authorization": f"Bearer {harness.ADMIN}"},
    ).json()
    headers = {"Authorization": f"Bearer {project['key']['token']}"}
    probes = [
        httpx.post(f"{BASE}/v1/probes", headers=headers, json={
            "name": f"trunk-{i}", "kind": "sip_call", "target": "sip:echo@127.0.0.1:5999",
            "enabled": False,
        }).json()["id"]
        for i in range(3)
    ]  # fmt: skip
    names = ["Primary SIP Trunk", "Backup SIP Trunk", "Voicemail"]
    body = {
        "name": "Acme Voice",
        "slug": f"acme-{time.monotonic_ns()}",
        "components": [
            {"probe_id": p, "name": n, "group": "Voice" if i < 2 else None}
            for i, (p, n) in enumerate(zip(probes, names, strict=True))
        ],
        **page_fields,
    }
    created = httpx.post(f"{BASE}/v1/pages", json=body, headers=headers)
    assert created.status_code == 201, created.text
    now = datetime.now(UTC)
    outage = (now - timedelta(days=5)).replace(hour=10, minute=0)  # within one (UTC) day
    mos = {"state": "unhealthy", "metric": "mos", "value": 3.1, "rule": "critical"}
    for probe in probes:
        store_history(url, project["project"]["id"], probe, [
            (now - timedelta(days=40), "healthy", []),
            (outage, "unhealthy", [mos]),
            (outage + timedelta(hours=2), "healthy", []),
        ])  # fmt: skip
    return created.json(), probes, {"project": project["project"]["id"]}


def test_page_renders_seeded_states_and_bars(server: str, page: Page) -> None:
    created, probes, ids = _world(server)
    store_history(server, ids["project"], probes[1], [(datetime.now(UTC), "degraded", [])])
    page.goto(created["urls"]["page"].replace("http://127.0.0.1:8080", BASE))
    assert page.locator("h1").inner_text() == "Partial Degradation"
    states = page.locator(".component .state").all_inner_texts()
    assert [s.split(" ", 1)[1] for s in states] == ["Operational", "Degraded", "Operational"]
    assert page.locator(".component").first.locator(".bar i").count() == 90
    # 40 days of history: the 49 whole days before it are grey (no data), never green.
    assert page.locator(".component").first.locator(".bar i.d-unknown").count() == 49
    assert page.locator(".component").first.locator(".bar i.d-unhealthy").count() == 1
    assert "MOS fell to 3.1 on Primary SIP Trunk" in page.locator(".timeline").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "page.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=SCREENSHOTS / "page-phone.png", full_page=True)
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=SCREENSHOTS / "page-dark.png", full_page=True)


def test_detail_view_draws_charts_with_plotly_served_here(server: str, page: Page) -> None:
    created, probes, _ = _world(server)
    store_hourly(server, probes[0], datetime.now(UTC), 48)
    loaded: list[str] = []
    page.on("request", lambda request: loaded.append(request.url))
    page.goto(created["urls"]["page"].replace("http://127.0.0.1:8080", BASE))
    assert not any("plotly" in url for url in loaded)
    page.get_by_role("link", name="Primary SIP Trunk").first.click()
    expect(page.locator(".plot .main-svg").first).to_be_visible(timeout=10_000)
    assert page.locator("figure.chart").count() == 4
    assert "MOS-LQO" in page.locator("figcaption").first.inner_text()
    assert all(url.startswith(BASE) for url in loaded), "every asset comes from callprobe"
    page.screenshot(path=SCREENSHOTS / "component.png", full_page=True)


def test_embed_shows_on_an_allowed_origin_only(
    server: str, page: Page, other_origin: Origin
) -> None:
    allowed, _, _ = _world(server, frame_ancestors=[other_origin.url])
    refused, _, _ = _world(server)
    for path, created in (("/allowed", allowed), ("/refused", refused)):
        snippet = created["embed_snippet"].replace("http://127.0.0.1:8080", BASE)
        other_origin.frames[path] = f"<h1>Support portal</h1>{snippet}"
    page.goto(f"{other_origin.url}/allowed")
    frame = page.frame_locator("iframe")
    assert frame.locator(".banner h1").inner_text() == "All Systems Operational"
    assert frame.locator(".component").count() == 3
    page.screenshot(path=SCREENSHOTS / "embed.png", full_page=True)
    page.goto(f"{other_origin.url}/refused")
    page.wait_for_timeout(1000)
    embedded = [f for f in page.frames if f != page.main_frame]
    assert embedded and all("Operational" not in f.content() for f in embedded)


def test_wall_refreshes_itself_and_shows_a_change(server: str, page: Page) -> None:
    created, probes, ids = _world(server, refresh_s=5)
    page.goto(created["urls"]["wall"].replace("http://127.0.0.1:8080", BASE))
    assert page.locator(".banner h1").inner_text() == "All Systems Operational"
    page.screenshot(path=SCREENSHOTS / "wall.png", full_page=True)
    store_history(server, ids["project"], probes[0], [(datetime.now(UTC), "unhealthy", [])])
    # The page's CSP forbids eval, so wait with a locator assertion, not a JS predicate.
    expect(page.locator(".banner h1")).to_have_text("Major Issues Detected", timeout=15_000)
    page.screenshot(path=SCREENSHOTS / "wall-outage.png", full_page=True)
