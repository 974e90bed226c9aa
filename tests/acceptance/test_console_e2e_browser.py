"""The operator console end to end, as the issue checks it: a real browser (Debian's
Chromium, Playwright) against ``callprobe serve`` on an instance of its own, with a real
agent placing real SIP calls to our reflector.

First-run owner setup; a location and an agent made in the console and started with the
token it shows; a SIP call probe to the reflector made from the form; its first result
on the overview within one interval; a threshold changed so it turns degraded; the
per-call page's E-model breakdown; a status page made from the probe and its public URL;
a viewer invited, who sees no buttons and whose POST the server refuses; a form without
its CSRF token refused; ten wrong passwords lock the account. Every screen is saved to
``.var/screenshots/console-e2e-*.png``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from bench import platform_harness as harness
from store import cluster
from tests.acceptance.conftest import SCREENSHOTS, start_peer, stop
from tests.conftest import start_migrated

pytestmark = [pytest.mark.db, pytest.mark.sip]

PORT = 18310
BASE = f"http://127.0.0.1:{PORT}"
DB_PORT = 25436
OWNER = "noc-owner@example.test"
VIEWER = "noc-viewer@example.test"
PASSWORD = "a long and varied passphrase"
INTERVAL_S = 10
REFLECTOR = "sip:echo@127.0.0.1:5390"
AGENT_PORTS = {"CALLPROBE_SIP_PORT_BASE": "5440", "CALLPROBE_RTP_PORT_BASE": "53000"}
"""A reflector and agent ports of this test's own: an agent stopped mid-call leaves the
reflector a call slot short for a while, which must not be the shared reflector's."""


@pytest.fixture(scope="module")
def reflector() -> Iterator[str]:
    command = [sys.executable, "-m", "api", "reflector", "--port", "5390", "--rtp-port", "38800"]
    proc = start_peer(command, 5390)
    yield REFLECTOR
    stop(proc)


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A fresh database (no account, no project) and ``callprobe serve`` on it."""
    root = cluster.default_root("pg-console-e2e")
    cluster.stop(root)
    shutil.rmtree(root, ignore_errors=True)
    url = start_migrated(root, DB_PORT)
    data = tmp_path_factory.mktemp("console-e2e")
    environ = harness.env(url, data, CALLPROBE_PUBLIC_URL=BASE)
    proc = harness.serve(PORT, environ)
    yield {"url": url, "environ": environ, "data": data}
    harness.stop(proc)
    cluster.stop(root)


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"console-e2e-{name}.png", full_page=True)


def csrf_of(page: Page) -> str:
    return str(page.locator("input[name=csrf]").first.get_attribute("value"))


def test_an_operator_runs_the_platform_from_the_browser(
    instance: dict[str, Any], browser: Browser, reflector: str, tmp_path: Path
) -> None:
    owner = browser.new_page()
    agent = None
    try:
        project = _first_run(owner)
        token = _agent_made(owner, project)
        agent = subprocess.Popen(
            [sys.executable, "-m", "api", "agent", "--api", BASE, "--location", "ams",
             "--spool", str(tmp_path / "spool")],
            env={**instance["environ"], **AGENT_PORTS, "CALLPROBE_AGENT_TOKEN": token},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        probe = _probe_made(owner, project, reflector)
        _first_result_on_the_overview(owner, project)
        _degraded_after_a_threshold_change(owner, project, probe)
        _call_page(owner, project, probe)
        _status_page(browser, owner, project)
        _viewer(browser, owner, project, probe)
        _csrf_refused(owner, project)
        _throttled(browser)
    finally:
        if agent is not None:
            harness.stop(agent)
        owner.close()


def _first_run(page: Page) -> str:
    page.goto(f"{BASE}/console/")
    expect(page).to_have_url(re.compile(r"/console/setup$"))
    shot(page, "setup")
    page.get_by_label("Email address").fill(OWNER)
    page.get_by_label("Password (at least 12 characters)").fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_label("First project").fill("Acme voice")
    page.get_by_role("button", name="Create the owner account").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.locator("header.top")).to_contain_text(f"{OWNER} (owner)")
    shot(page, "overview-empty")
    found = re.search(r"/console/p/([0-9a-f-]{36})", page.url)
    assert found, page.url
    return found.group(1)


def _agent_made(page: Page, project: str) -> str:
    page.goto(f"{BASE}/console/p/{project}/agents")
    page.get_by_label("New location (lower-case letters, digits, - and _)").fill("ams")
    page.get_by_role("button", name="Add location").click()
    page.get_by_label("Name", exact=True).fill("ams-1")
    page.locator("#agent-location").select_option("ams")
    page.get_by_role("button", name="Create agent").click()
    token = page.locator("#agent-token").inner_text().strip()
    assert token.startswith("cpa_")
    shot(page, "agent-token")
    return token


def _probe_made(page: Page, project: str, target: str) -> str:
    page.goto(f"{BASE}/console/p/{project}/probes/new?kind=sip_call")
    page.locator("input[name=name]").fill("Trunk A")
    page.locator("input[name=target]").fill(target)
    page.locator("input[name=interval_s]").fill(str(INTERVAL_S))
    page.locator("input[name='options.talk_s']").fill("4")
    page.locator("input[name=locations][value=ams]").check()
    shot(page, "probe-form")
    page.get_by_role("button", name=re.compile("Create")).click()
    expect(page.get_by_role("status")).to_have_text("Probe created.")
    shot(page, "probes")
    link = page.locator("tbody tr", has_text="Trunk A").get_by_role(
        "link", name="Trunk A", exact=True
    )
    href = str(link.get_attribute("href"))
    return href.rsplit("/", 1)[-1]


def _first_result_on_the_overview(page: Page, project: str) -> None:
    deadline = time.monotonic() + INTERVAL_S + 40
    row = page.locator("tbody tr", has_text="Trunk A")
    while time.monotonic() < deadline:
        page.goto(f"{BASE}/console/p/{project}")
        if re.search(r"\d\.\d\d", row.locator("td").nth(3).inner_text()):
            break
        time.sleep(2)
    expect(row.locator(".state")).to_have_text("healthy")  # no thresholds yet
    # a measured MOS (clean reflector calls score about 4.2; a busy CI box a little less)
    assert 2.5 < float(row.locator("td").nth(3).inner_text()) <= 4.6
    shot(page, "overview")


def _degraded_after_a_threshold_change(page: Page, project: str, probe: str) -> None:
    page.goto(f"{BASE}/console/p/{project}/probes/{probe}/thresholds")
    page.locator("input[name='warning.mos']").fill("4.9")
    shot(page, "thresholds")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Thresholds saved.")
    deadline = time.monotonic() + 2 * INTERVAL_S + 40
    row = page.locator("tbody tr", has_text="Trunk A")
    while time.monotonic() < deadline:
        page.goto(f"{BASE}/console/p/{project}")
        if row.locator(".state").inner_text() == "degraded":
            break
        time.sleep(2)
    expect(row.locator(".state")).to_have_text("degraded")
    shot(page, "overview-degraded")


def _call_page(page: Page, project: str, probe: str) -> None:
    page.goto(f"{BASE}/console/p/{project}/probes/{probe}")
    expect(page.locator(".main-svg").first).to_be_visible()
    shot(page, "probe-detail")
    page.locator("a[href*='/calls/']").first.click()
    words = re.compile(r"R \d+\.\d: codec \d+\.\d, loss \d+\.\d, delay \d+\.\d")
    expect(page.get_by_text(words)).to_be_visible()
    shot(page, "call")


def _status_page(browser: Browser, page: Page, project: str) -> None:
    page.goto(f"{BASE}/console/p/{project}/pages")
    page.get_by_label("Name", exact=True).fill("Acme status")
    page.locator("input[name=slug]").fill("acme-e2e")
    page.locator("label", has_text="Trunk A").locator("input[name=probe]").check()
    page.get_by_role("button", name="Create status page").click()
    shot(page, "page-editor")
    public = browser.new_page()
    public.goto(f"{BASE}/s/acme-e2e")
    expect(public.locator("body")).to_contain_text("Trunk A")
    shot(public, "public-page")
    public.close()


def _viewer(browser: Browser, owner: Page, project: str, probe: str) -> None:
    owner.goto(f"{BASE}/console/p/{project}/settings")
    owner.locator("#inv-email").fill(VIEWER)
    owner.locator("#inv-role").select_option("viewer")
    owner.get_by_role("button", name="Create invitation link").click()
    link = owner.locator("#invite-link").inner_text().strip()
    shot(owner, "settings")
    viewer = browser.new_context().new_page()
    viewer.goto(link)
    viewer.locator("#inv-password").fill(PASSWORD)
    viewer.locator("#inv-confirm").fill(PASSWORD)
    viewer.get_by_role("button", name="Create account and join").click()
    viewer.goto(f"{BASE}/console/p/{project}/probes")
    expect(viewer.locator("tbody tr", has_text="Trunk A")).to_be_visible()
    for absent in ("New probe", "Run now", "Delete", "Edit"):
        expect(viewer.get_by_role("button", name=absent)).to_have_count(0)
    expect(viewer.get_by_role("link", name=re.compile("New probe"))).to_have_count(0)
    shot(viewer, "viewer-probes")
    refused = viewer.request.post(
        f"{BASE}/console/p/{project}/probes/{probe}/delete", form={"csrf": csrf_of(viewer)}
    )
    assert refused.status == 403
    viewer.context.close()


def _csrf_refused(page: Page, project: str) -> None:
    forged = page.request.post(
        f"{BASE}/console/p/{project}/probes/new?kind=sip_call",
        form={"name": "forged", "target": "sip:x@127.0.0.1"},
    )
    assert forged.status == 403
    page.goto(f"{BASE}/console/p/{project}/probes")
    expect(page.locator("tbody tr", has_text="forged")).to_have_count(0)


def _throttled(browser: Browser) -> None:
    page = browser.new_context().new_page()
    for _ in range(10):
        page.goto(f"{BASE}/console/login")
        page.get_by_label("Email address").fill(OWNER)
        page.get_by_label("Password").fill("not the password at all")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("wrong email address or password")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("locked for 15 more minutes")
    shot(page, "login-locked")
    page.context.close()
