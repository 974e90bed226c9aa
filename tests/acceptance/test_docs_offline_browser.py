"""The API docs on an isolated network: ``/docs`` renders in Chromium while every
request to another origin is refused, and its CSP allows nothing but callprobe."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Page, Route, expect, sync_playwright

from bench import platform_harness as harness
from tests.acceptance.conftest import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.conftest import Cluster

pytestmark = pytest.mark.db

API_PORT = 18201
BASE = f"http://127.0.0.1:{API_PORT}"


@pytest.fixture(scope="module")
def server(db: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc = harness.serve(API_PORT, harness.env(db.url, tmp_path_factory.mktemp("docs")))
    yield BASE
    harness.stop(proc)


@pytest.fixture
def offline_page() -> Iterator[tuple[Page, list[str], list[str]]]:
    """A page that can reach only callprobe: (page, refused URLs, CSP complaints)."""
    refused: list[str] = []
    complaints: list[str] = []

    def only_callprobe(route: Route) -> None:
        if route.request.url.startswith(f"{BASE}/"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            complaints.append(message.text)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.route("**/*", only_callprobe)
        page.on("console", on_console)
        yield page, refused, complaints
        browser.close()


def test_docs_render_their_operations_without_a_network(
    server: str, offline_page: tuple[Page, list[str], list[str]]
) -> None:
    page, refused, complaints = offline_page
    page.goto(f"{server}/docs")
    create_probe = page.locator(".opblock-post .opblock-summary-path[data-path='/v1/probes']")
    expect(create_probe).to_be_visible(timeout=15_000)
    expect(page.locator(".opblock-get [data-path='/v1/probes/{probe_id}']")).to_be_visible()
    assert page.locator(".opblock").count() > 40
    assert refused == []
    assert complaints == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "docs.png")


def test_docs_page_is_not_frameable_and_allows_only_its_own_origin(server: str) -> None:
    response = httpx.get(f"{server}/docs")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy
    assert "unsafe" not in policy
    assert response.headers["x-frame-options"] == "DENY"
