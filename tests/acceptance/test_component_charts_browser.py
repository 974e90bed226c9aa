"""A new probe's detail charts in Chromium: one stored result is a visible point on
every chart, and the time axis spans the requested window."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from bench import platform_harness as harness
from probes.result import CallResult, Outcome
from store import results
from store.pool import transaction
from tests.acceptance.conftest import SCREENSHOTS
from tests.conftest import Cluster

pytestmark = pytest.mark.db

API_PORT = 18202
BASE = f"http://127.0.0.1:{API_PORT}"


@pytest.fixture(scope="module")
def server(db: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    environ = harness.env(db.url, tmp_path_factory.mktemp("charts"), CALLPROBE_PAGE_CACHE_S="0")
    proc = harness.serve(API_PORT, environ)
    yield db.url
    harness.stop(proc)


def _new_probe_with_one_result(url: str) -> str:
    """A page with one component whose probe has a single stored call: its detail URL."""
    project = httpx.post(
        f"{BASE}/v1/projects",
        json={"name": f"charts-{time.monotonic_ns()}"},
        headers={"Authorization": f"Bearer {harness.ADMIN}"},
    ).json()
    headers = {"Authorization": f"Bearer {project['key']['token']}"}
    probe = httpx.post(f"{BASE}/v1/probes", headers=headers, json={
        "name": "new trunk", "kind": "sip_call", "target": "sip:echo@127.0.0.1:5999",
        "enabled": False,
    }).json()["id"]  # fmt: skip
    body = {"name": "New", "slug": f"new-{time.monotonic_ns()}", "components": [
        {"probe_id": probe, "name": "New SIP Trunk"}]}  # fmt: skip
    created = httpx.post(f"{BASE}/v1/pages", json=body, headers=headers)
    assert created.status_code == 201, created.text
    call = CallResult(
        target="sip:echo@127.0.0.1:5999", outcome=Outcome.OK, probe_id=uuid.UUID(probe),
        location="test", started_at=datetime.now(UTC) - timedelta(minutes=2), pdd_ms=120.0,
        jitter_ms=1.5, rx_loss_pct=0.0, tx_loss_pct=0.0, pesq_mos=4.2,
    )  # fmt: skip
    # Playwright's sync API keeps an event loop running in this thread.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, _store(url, call, uuid.UUID(project["project"]["id"]))).result()
    component = created.json()["components"][0]["public_id"]
    page_url: str = created.json()["urls"]["page"].replace("http://127.0.0.1:8080", BASE)
    return f"{page_url}/components/{component}"


async def _store(url: str, call: CallResult, project_id: uuid.UUID) -> None:
    async with transaction(url) as conn:
        await results.insert_results(conn, [call], project_id)
        await results.add_to_rollups(conn, [call.run_id])


@pytest.mark.parametrize("days", [1, 7, 30, 90])
def test_a_single_result_is_a_point_on_every_chart_over_the_window(
    server: str, page: Page, days: int
) -> None:
    detail = _new_probe_with_one_result(server)
    page.goto(f"{detail}?days={days}")
    plots = page.locator(".plot")
    expect(plots.first.locator(".main-svg").first).to_be_visible(timeout=10_000)
    assert plots.count() == 4
    for i in range(4):
        expect(plots.nth(i).locator("path.point")).to_have_count(1)
        expect(plots.nth(i).locator("path.point")).to_be_visible()
        # plotly.js reads dates as wall-clock times of the page's zone (here UTC).
        first, last = (
            datetime.fromisoformat(end).replace(tzinfo=UTC)
            for end in plots.nth(i).evaluate("div => div._fullLayout.xaxis.range")
        )
        now = datetime.now(UTC)
        assert now - timedelta(minutes=1) < last <= now
        assert timedelta(days=days) <= last - first <= timedelta(days=days + 1)
    page.screenshot(path=SCREENSHOTS / f"component-new-probe-{days}d.png", full_page=True)
